# ByteFreezer processing stack: buckets (intake, piper, packer, geoip), ECS Fargate services receiver
# (behind an ALB), piper and packer, one least-privilege task role per service.
terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name        = "bytefreezer-${var.environment}"
  region      = data.aws_region.current.id
  has_control = var.control_service_url != ""
  has_cert    = var.certificate_arn != ""
  bucket_sfx  = "${data.aws_caller_identity.current.account_id}-${local.region}"
  tags        = merge({ Environment = var.environment, ManagedBy = "terraform", Application = "bytefreezer" }, var.tags)
  tenants_uri = local.has_control ? "control" : "s3://${aws_s3_bucket.this["geoip"].bucket}/tenants.yaml"

  buckets = {
    intake = { expire = true }
    piper  = { expire = true }
    packer = { expire = false }
    geoip  = { expire = false }
  }

  # One entry per container: the ports it listens on and the environment it is given. The names are
  # the daemons' own (bytefreezer-<daemon> --list-env); test/infra checks them.
  containers = {
    receiver = {
      cpu    = 512
      memory = 1024
      ports  = [8080, 8081]
      environment = {
        BYTEFREEZER_RECEIVER__LISTEN        = "0.0.0.0:8080"
        BYTEFREEZER_RECEIVER__ADMIN_LISTEN  = "0.0.0.0:8081"
        BYTEFREEZER_RECEIVER__STORE__INTAKE = "s3://${aws_s3_bucket.this["intake"].bucket}/"
        BYTEFREEZER_RECEIVER__S3__REGION    = local.region
        BYTEFREEZER_RECEIVER__TENANTS       = local.tenants_uri
        CONTROL_URL                         = var.control_service_url
        ACCOUNT_ID                          = var.control_account_id
      }
    }
    piper = {
      cpu    = 1024
      memory = 2048
      ports  = [8082]
      environment = {
        BYTEFREEZER_PIPER__ADMIN_LISTEN  = "0.0.0.0:8082"
        BYTEFREEZER_PIPER__STORE__INTAKE = "s3://${aws_s3_bucket.this["intake"].bucket}/"
        BYTEFREEZER_PIPER__STORE__PIPER  = "s3://${aws_s3_bucket.this["piper"].bucket}/"
        BYTEFREEZER_PIPER__GEOIP__URI    = "s3://${aws_s3_bucket.this["geoip"].bucket}/"
        BYTEFREEZER_PIPER__S3__REGION    = local.region
        BYTEFREEZER_PIPER__TENANTS       = local.tenants_uri
        CONTROL_URL                      = var.control_service_url
        ACCOUNT_ID                       = var.control_account_id
      }
    }
    packer = {
      cpu    = 1024
      memory = 2048
      ports  = [8083]
      environment = {
        BYTEFREEZER_PACKER__ADMIN_LISTEN  = "0.0.0.0:8083"
        BYTEFREEZER_PACKER__STORE__PIPER  = "s3://${aws_s3_bucket.this["piper"].bucket}/"
        BYTEFREEZER_PACKER__STORE__PACKER = "s3://${aws_s3_bucket.this["packer"].bucket}/"
        BYTEFREEZER_PACKER__MAX_MEMORY    = "1GiB"
        BYTEFREEZER_PACKER__S3__REGION    = local.region
        BYTEFREEZER_PACKER__TENANTS       = local.tenants_uri
        CONTROL_URL                       = var.control_service_url
        ACCOUNT_ID                        = var.control_account_id
      }
    }
  }
  secrets = local.has_control ? [{ name = "CONTROL_API_KEY", valueFrom = var.control_service_api_key_arn }] : []
}

# ---------------- buckets ----------------
resource "aws_s3_bucket" "this" {
  for_each = local.buckets
  bucket   = "${var.s3_bucket_prefix}-${each.key}-${local.bucket_sfx}"
  tags     = local.tags
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "staging" {
  for_each = { for k, v in local.buckets : k => v if v.expire }
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    id     = "staging-safety-net"
    status = "Enabled"
    filter {}
    expiration {
      days = var.staging_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

# ---------------- cluster and logs ----------------
resource "aws_ecs_cluster" "this" {
  name = local.name
  tags = local.tags
}

resource "aws_cloudwatch_log_group" "svc" {
  for_each          = local.containers
  name              = "/ecs/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# ---------------- IAM ----------------
data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = "bf-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "control_api_key" {
  count = local.has_control ? 1 : 0
  name  = "read-control-api-key"
  role  = aws_iam_role.execution.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = var.control_service_api_key_arn }]
  })
}

resource "aws_iam_role" "task" {
  for_each           = local.containers
  name_prefix        = "bf-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = local.tags
}

locals {
  arn = { for k, b in aws_s3_bucket.this : k => b.arn }
  task_statements = {
    receiver = [
      { Sid = "WriteIntake", Effect = "Allow", Action = ["s3:PutObject", "s3:AbortMultipartUpload"], Resource = "${local.arn["intake"]}/*" },
      { Sid = "ListIntake", Effect = "Allow", Action = ["s3:ListBucket"], Resource = local.arn["intake"] },
      { Sid = "ReadTenants", Effect = "Allow", Action = ["s3:GetObject"], Resource = "${local.arn["geoip"]}/tenants.yaml" },
    ]
    piper = [
      { Sid = "ConsumeIntake", Effect = "Allow", Action = ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"], Resource = "${local.arn["intake"]}/*" },
      { Sid = "ListIntake", Effect = "Allow", Action = ["s3:ListBucket"], Resource = local.arn["intake"] },
      { Sid = "WritePiper", Effect = "Allow", Action = ["s3:PutObject", "s3:AbortMultipartUpload"], Resource = "${local.arn["piper"]}/*" },
      { Sid = "ReadReference", Effect = "Allow", Action = ["s3:GetObject"], Resource = "${local.arn["geoip"]}/*" },
      { Sid = "ListReference", Effect = "Allow", Action = ["s3:ListBucket"], Resource = local.arn["geoip"] },
    ]
    packer = [
      { Sid = "ConsumePiper", Effect = "Allow", Action = ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"], Resource = "${local.arn["piper"]}/*" },
      { Sid = "ListPiper", Effect = "Allow", Action = ["s3:ListBucket"], Resource = local.arn["piper"] },
      { Sid = "WriteParquet", Effect = "Allow", Action = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], Resource = "${local.arn["packer"]}/*" },
      { Sid = "ListParquet", Effect = "Allow", Action = ["s3:ListBucket"], Resource = local.arn["packer"] },
      { Sid = "ReadTenants", Effect = "Allow", Action = ["s3:GetObject"], Resource = "${local.arn["geoip"]}/tenants.yaml" },
    ]
  }
}

resource "aws_iam_role_policy" "task_s3" {
  for_each = local.containers
  name     = "${each.key}-s3"
  role     = aws_iam_role.task[each.key].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.task_statements[each.key] })
}

# ---------------- network ----------------
resource "aws_security_group" "alb" {
  name_prefix = "${local.name}-alb-"
  description = "ByteFreezer receiver ALB"
  vpc_id      = var.vpc_id
  ingress {
    description = "HTTP"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = [var.allowed_ingress_cidr]
  }
  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.allowed_ingress_cidr]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_security_group" "receiver" {
  name_prefix = "${local.name}-receiver-"
  description = "ByteFreezer receiver tasks: data and health ports from the ALB only"
  vpc_id      = var.vpc_id
  ingress {
    description     = "ingest from ALB"
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  ingress {
    description     = "health checks from ALB"
    from_port       = 8081
    to_port         = 8081
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_security_group" "worker" {
  name_prefix = "${local.name}-worker-"
  description = "ByteFreezer piper and packer: no inbound traffic"
  vpc_id      = var.vpc_id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_lb" "receiver" {
  name                       = substr("bf-receiver-${var.environment}", 0, 32)
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  tags                       = local.tags
}

resource "aws_lb_target_group" "receiver" {
  name                 = substr("bf-receiver-${var.environment}", 0, 32)
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  health_check {
    path                = "/api/v1/health"
    port                = "8081"
    protocol            = "HTTP"
    healthy_threshold   = 2
    unhealthy_threshold = 3
    interval            = 15
    timeout             = 5
  }
  tags = local.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.receiver.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = local.has_cert ? "redirect" : "forward"
    target_group_arn = local.has_cert ? null : aws_lb_target_group.receiver.arn
    dynamic "redirect" {
      for_each = local.has_cert ? [1] : []
      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.has_cert ? 1 : 0
  load_balancer_arn = aws_lb.receiver.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.receiver.arn
  }
}

# ---------------- tasks and services ----------------
resource "aws_ecs_task_definition" "svc" {
  for_each                 = local.containers
  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions = jsonencode([{
    name         = each.key
    image        = "${var.image_registry}/bytefreezer-${each.key}:${var.image_tag}"
    essential    = true
    portMappings = [for p in each.value.ports : { containerPort = p, protocol = "tcp" }]
    environment  = [for k, v in each.value.environment : { name = k, value = v }]
    secrets      = local.secrets
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/bytefreezer-${each.key}", "--healthcheck"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 20
    }
    stopTimeout = each.key == "packer" ? 60 : 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.svc[each.key].name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
  tags = local.tags
}

resource "aws_ecs_service" "receiver" {
  name                              = "${local.name}-receiver"
  cluster                           = aws_ecs_cluster.this.id
  launch_type                       = "FARGATE"
  task_definition                   = aws_ecs_task_definition.svc["receiver"].arn
  desired_count                     = var.receiver_desired_count
  health_check_grace_period_seconds = 30
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.receiver.id]
    assign_public_ip = var.assign_public_ip
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.receiver.arn
    container_name   = "receiver"
    container_port   = 8080
  }
  depends_on = [aws_lb_listener.http]
  tags       = local.tags
}

resource "aws_ecs_service" "piper" {
  name            = "${local.name}-piper"
  cluster         = aws_ecs_cluster.this.id
  launch_type     = "FARGATE"
  task_definition = aws_ecs_task_definition.svc["piper"].arn
  desired_count   = var.piper_desired_count
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = var.assign_public_ip
  }
  tags = local.tags
}

resource "aws_ecs_service" "packer" {
  name            = "${local.name}-packer"
  cluster         = aws_ecs_cluster.this.id
  launch_type     = "FARGATE"
  task_definition = aws_ecs_task_definition.svc["packer"].arn
  desired_count   = var.packer_desired_count
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = var.assign_public_ip
  }
  tags = local.tags
}
