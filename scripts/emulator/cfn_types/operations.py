"""Alarms, SNS subscriptions, EventBridge Scheduler groups and schedules, S3
bucket policies, Lambda aliases and asynchronous invocation settings, and
CloudWatch Logs subscription filters, made by CloudFormation through moto's
cloudwatch, sns, scheduler, s3, lambda and logs backends.
"""

import datetime
import json

from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends

from cfn_types.service_resource import ServiceResource, tag_list


def metric_data_query(query):
    """One entry of an alarm's Metrics, as PutMetricAlarm's handler builds it."""
    stat = query.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        dimensions = [Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions") or []]
        metric_stat = MetricStat(metric=Metric(metric_name=metric["MetricName"], namespace=metric.get("Namespace"), dimensions=dimensions), period=stat["Period"], stat=stat["Stat"], unit=stat.get("Unit"))
    return MetricDataQuery(query_id=query["Id"], label=query.get("Label"), period=query.get("Period"), return_data=query.get("ReturnData"), expression=query.get("Expression"), metric_stat=metric_stat)


class Alarm(ServiceResource):
    TYPE = "AWS::CloudWatch::Alarm"

    def backend(self):
        return cloudwatch_backends[self.account_id][self.region_name]

    def put(self, name):
        p = self.properties
        alarm = self.backend().put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=p["EvaluationPeriods"],
            period=p.get("Period"),
            threshold=p.get("Threshold"),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions") or [],
            alarm_actions=p.get("AlarmActions") or [],
            metric_data_queries=[metric_data_query(q) for q in p["Metrics"]] if p.get("Metrics") else None,
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=p.get("OKActions") or [],
            insufficient_data_actions=p.get("InsufficientDataActions") or [],
            unit=p.get("Unit"),
            actions_enabled=p.get("ActionsEnabled", True),
            treat_missing_data=p.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=p.get("ThresholdMetricId"),
            tags=tag_list(p.get("Tags")),
        )
        # Ref is the alarm's name.
        self.physical_resource_id = name
        self.attributes = {"Arn": alarm.alarm_arn}

    def create(self):
        self.put(self.properties.get("AlarmName") or self.generated_name[:255])

    def update(self):
        # PutMetricAlarm replaces the whole alarm of that name.
        self.put(self.physical_resource_id)

    def remove(self):
        self.backend().delete_alarms([self.physical_resource_id])


class Subscription(ServiceResource):
    TYPE = "AWS::SNS::Subscription"

    # Members of the template that are subscription attributes in the API.
    # The scope comes before the policy: moto validates a filter policy, and
    # builds its matcher, with the scope already set (a nested policy on the
    # message body was refused under the default MessageAttributes scope).
    ATTRIBUTES = ("DeliveryPolicy", "FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy")

    def backend(self):
        return sns_backends[self.account_id][self.properties["TopicArn"].split(":")[3]]

    def create(self):
        p = self.properties
        subscription = self.backend().subscribe(p["TopicArn"], p.get("Endpoint"), p["Protocol"])
        self.physical_resource_id = subscription.arn
        self.attributes = {"Arn": subscription.arn}
        self.set_attributes()

    def set_attributes(self):
        for name in self.ATTRIBUTES:
            if name in self.properties:
                value = self.properties[name]
                self.backend().set_subscription_attributes(self.physical_resource_id, name, value if isinstance(value, str) else json.dumps(value))

    def update(self):
        self.set_attributes()

    def remove(self):
        self.backend().unsubscribe(self.physical_resource_id)


class ScheduleGroup(ServiceResource):
    TYPE = "AWS::Scheduler::ScheduleGroup"

    def backend(self):
        return scheduler_backends[self.account_id][self.region_name]

    def create(self):
        group = self.backend().create_schedule_group(self.properties.get("Name") or self.generated_name[:64], tag_list(self.properties.get("Tags")))
        self.physical_resource_id = group.name
        stamp = datetime.datetime.fromtimestamp(group.created_on, datetime.timezone.utc).isoformat()
        self.attributes = {"Arn": group.arn, "CreationDate": stamp, "LastModificationDate": stamp, "State": "ACTIVE"}

    def update(self):
        group = self.backend().get_schedule_group(self.physical_resource_id)
        self.backend().tagger.delete_all_tags_for_resource(group.arn)
        self.backend().tag_resource(group.arn, tag_list(self.properties.get("Tags")))

    def remove(self):
        self.backend().delete_schedule_group(self.physical_resource_id)


class Schedule(ServiceResource):
    TYPE = "AWS::Scheduler::Schedule"

    def backend(self):
        return scheduler_backends[self.account_id][self.region_name]

    def arguments(self):
        p = self.properties
        return dict(
            description=p.get("Description"),
            end_date=p.get("EndDate"),
            flexible_time_window=p["FlexibleTimeWindow"],
            group_name=p.get("GroupName"),
            kms_key_arn=p.get("KmsKeyArn"),
            name=self.physical_resource_id or p.get("Name") or self.generated_name[:64],
            schedule_expression=p["ScheduleExpression"],
            schedule_expression_timezone=p.get("ScheduleExpressionTimezone"),
            start_date=p.get("StartDate"),
            state=p.get("State") or "ENABLED",
            target=p["Target"],
        )

    def create(self):
        schedule = self.backend().create_schedule(action_after_completion=None, **self.arguments())
        self.physical_resource_id = schedule.name
        self.attributes = {"Arn": schedule.arn}

    def update(self):
        self.backend().update_schedule(**self.arguments())

    def remove(self):
        self.backend().delete_schedule(self.properties.get("GroupName"), self.physical_resource_id)


class BucketPolicy(ServiceResource):
    TYPE = "AWS::S3::BucketPolicy"

    def backend(self):
        return s3_backends[self.account_id]["aws"]

    def put(self):
        document = self.properties["PolicyDocument"]
        self.backend().put_bucket_policy(self.properties["Bucket"], (document if isinstance(document, str) else json.dumps(document)).encode())

    def create(self):
        self.put()
        # The bucket names the policy (its primary identifier).
        self.physical_resource_id = self.properties["Bucket"]

    def update(self):
        self.put()

    def remove(self):
        self.backend().delete_bucket_policy(self.properties["Bucket"])


class Alias(ServiceResource):
    """ProvisionedConcurrencyConfig is not kept: moto's Lambda has no
    provisioned concurrency API."""

    TYPE = "AWS::Lambda::Alias"

    def backend(self):
        return lambda_backends[self.account_id][self.region_name]

    def arguments(self):
        p = self.properties
        return dict(name=p["Name"], function_name=p["FunctionName"], function_version=p["FunctionVersion"], description=p.get("Description", ""), routing_config=p.get("RoutingConfig"))

    def create(self):
        alias = self.backend().create_alias(**self.arguments())
        # Ref is the alias's ARN.
        self.physical_resource_id = alias.arn
        self.attributes = {"AliasArn": alias.arn}

    def update(self):
        self.backend().update_alias(**self.arguments())

    def remove(self):
        self.backend().delete_alias(self.properties["Name"], self.properties["FunctionName"])


class EventInvokeConfig(ServiceResource):
    """A function's asynchronous invocation settings (PutFunctionEventInvokeConfig)."""

    TYPE = "AWS::Lambda::EventInvokeConfig"
    SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")

    def backend(self):
        return lambda_backends[self.account_id][self.region_name]

    def function(self):
        p = self.properties
        return self.backend().get_function(p["FunctionName"], p["Qualifier"])

    def create(self):
        config = {k: self.properties[k] for k in self.SETTINGS if k in self.properties}
        # moto appends on every put and answers the first: one config per function, as on AWS.
        self.function().event_invoke_config = []
        self.backend().put_function_event_invoke_config(self.properties["FunctionName"], config)
        # The schema's primary identifier is FunctionName and Qualifier.
        self.physical_resource_id = f"{self.properties['FunctionName']}|{self.properties['Qualifier']}"

    def update(self):
        self.create()

    def remove(self):
        self.function().event_invoke_config = []


class SubscriptionFilter(ServiceResource):
    """A log group's subscription filter (PutSubscriptionFilter); moto
    checks the destination exists, as CloudWatch Logs does."""

    TYPE = "AWS::Logs::SubscriptionFilter"

    def backend(self):
        return logs_backends[self.account_id][self.region_name]

    def create(self):
        p = self.properties
        name = p.get("FilterName") or self.generated_name[:512]
        self.backend().put_subscription_filter(p["LogGroupName"], name, p["FilterPattern"], p["DestinationArn"], p.get("RoleArn"))
        self.physical_resource_id = name

    def update(self):
        self.create()

    def remove(self):
        self.backend().delete_subscription_filter(self.properties["LogGroupName"], self.physical_resource_id)
