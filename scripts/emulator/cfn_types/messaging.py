"""SQS queue policies, made by CloudFormation through moto's sqs backend
(moto's CloudFormation skips AWS::SQS::QueuePolicy, so a queue that SNS or
EventBridge sends to had no policy allowing them).
"""

import json

from moto.sqs.models import sqs_backends

from cfn_types.service_resource import ServiceResource, stable_token


class QueuePolicy(ServiceResource):
    """The policy of each queue in Queues (their URLs), as SetQueueAttributes
    `Policy`. moto's SQS does not evaluate it when SNS or EventBridge
    deliver; the service's API shows it as AWS does."""

    TYPE = "AWS::SQS::QueuePolicy"

    def backend(self):
        return sqs_backends[self.account_id][self.region_name]

    @staticmethod
    def queue_name(url):
        return url.rstrip("/").rsplit("/", 1)[-1]

    def put(self, queues, document):
        text = document if isinstance(document, str) else json.dumps(document)
        for url in queues:
            self.backend().set_queue_attributes(self.queue_name(url), {"Policy": text})

    def create(self):
        self.put(self.properties["Queues"], self.properties["PolicyDocument"])
        self.queues = list(self.properties["Queues"])
        # Ref is an id CloudFormation makes up (the stack's name, the
        # logical id and a random suffix).
        self.physical_resource_id = f"{self.generated_name}-{stable_token(self.generated_name, length=12).upper()}"

    def update(self):
        for url in set(self.queues) - set(self.properties["Queues"]):
            self.clear(url)
        self.put(self.properties["Queues"], self.properties["PolicyDocument"])
        self.queues = list(self.properties["Queues"])

    def clear(self, url):
        try:
            self.backend().set_queue_attributes(self.queue_name(url), {"Policy": ""})
        except Exception:  # noqa: BLE001 - a queue deleted first has no policy left to clear
            pass

    def remove(self):
        for url in self.properties["Queues"]:
            self.clear(url)
