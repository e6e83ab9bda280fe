"""CloudFormation resource types the launcher adds to moto (see
../moto_server.py). A package, because moto files every model class under
the second part of its module's name (`cfn_types.identity` -> "identity")."""
