# ByteFreezer edge proxy for one site: ECS Fargate behind an NLB with UDP and TCP syslog listeners on
# the same port. The admin port (8008) is reachable only from the NLB (health checks).
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
data "aws_partition" "current" {}

locals {
  name        = "bytefreezer-proxy-${var.site_name}-${var.environment}"
  region      = data.aws_region.current.id
  has_control = var.control_service_url != ""
  tags        = merge({ Environment = var.environment, Site = var.site_name, ManagedBy = "terraform", Application = "bytefreezer" }, var.tags)
  # Load balancer and target group names are limited to 32 characters: a readable prefix plus a hash of
  # the full name keeps them unique for any site name.
  lb_hash = substr(md5(local.name), 0, 6)
  lb_base = trimsuffix(substr("bfp-${var.site_name}", 0, 21), "-")

  containers = {
    proxy = {
      ports = [var.udp_port, 8008]
      environment = {
        BYTEFREEZER_PROXY__ADMIN_LISTEN     = "0.0.0.0:8008"
        BYTEFREEZER_PROXY__RECEIVER__URL    = var.receiver_url
        BYTEFREEZER_PROXY__SPOOL__DIR       = "/var/lib/bytefreezer-proxy/spool"
        BYTEFREEZER_PROXY__SPOOL__MAX_BYTES = "40GiB"
        BYTEFREEZER_PROXY__S3__REGION       = local.region
        BYTEFREEZER_PROXY__TENANTS          = local.has_control ? "control" : "s3://${var.tenants_bucket}/${var.tenants_key}"
        CONTROL_URL                         = var.control_service_url
        ACCOUNT_ID                          = var.control_account_id
      }
    }
  }
}

resource "aws_ecs_cluster" "this" {
  name = local.name
  tags = local.tags
}

resource "aws_cloudwatch_log_group" "proxy" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

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
  name_prefix        = "bfp-exec-"
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
  name_prefix        = "bfp-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "tenants" {
  count = var.tenants_bucket != "" ? 1 : 0
  name  = "read-tenants"
  role  = aws_iam_role.task.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:${data.aws_partition.current.partition}:s3:::${var.tenants_bucket}/${var.tenants_key}" }]
  })
}

resource "aws_security_group" "nlb" {
  name_prefix = "bfp-nlb-"
  description = "ByteFreezer proxy NLB: syslog from the allowed range"
  vpc_id      = var.vpc_id
  ingress {
    description = "syslog UDP"
    from_port   = var.udp_port
    to_port     = var.udp_port
    protocol    = "udp"
    cidr_blocks = [var.allowed_ingress_cidr]
  }
  ingress {
    description = "syslog TCP"
    from_port   = var.udp_port
    to_port     = var.udp_port
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

resource "aws_security_group" "proxy" {
  name_prefix = "bfp-task-"
  description = "ByteFreezer proxy tasks: syslog and health checks from the NLB only"
  vpc_id      = var.vpc_id
  ingress {
    description     = "syslog UDP"
    from_port       = var.udp_port
    to_port         = var.udp_port
    protocol        = "udp"
    security_groups = [aws_security_group.nlb.id]
  }
  ingress {
    description     = "syslog TCP"
    from_port       = var.udp_port
    to_port         = var.udp_port
    protocol        = "tcp"
    security_groups = [aws_security_group.nlb.id]
  }
  ingress {
    description     = "health checks"
    from_port       = 8008
    to_port         = 8008
    protocol        = "tcp"
    security_groups = [aws_security_group.nlb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_lb" "proxy" {
  name               = "${local.lb_base}-${local.lb_hash}"
  load_balancer_type = "network"
  internal           = false
  subnets            = var.subnet_ids
  security_groups    = [aws_security_group.nlb.id]
  tags               = local.tags
}

resource "aws_lb_target_group" "udp" {
  name        = "${local.lb_base}-u${local.lb_hash}"
  port        = var.udp_port
  protocol    = "UDP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    protocol            = "HTTP"
    port                = "8008"
    path                = "/api/v1/health"
    healthy_threshold   = 2
    unhealthy_threshold = 2
    interval            = 10
  }
  tags = local.tags
}

resource "aws_lb_target_group" "tcp" {
  name        = "${local.lb_base}-t${local.lb_hash}"
  port        = var.udp_port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    protocol            = "HTTP"
    port                = "8008"
    path                = "/api/v1/health"
    healthy_threshold   = 2
    unhealthy_threshold = 2
    interval            = 10
  }
  tags = local.tags
}

resource "aws_lb_listener" "udp" {
  load_balancer_arn = aws_lb.proxy.arn
  port              = var.udp_port
  protocol          = "UDP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.udp.arn
  }
}

resource "aws_lb_listener" "tcp" {
  load_balancer_arn = aws_lb.proxy.arn
  port              = var.udp_port
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tcp.arn
  }
}

resource "aws_ecs_task_definition" "proxy" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  ephemeral_storage {
    size_in_gib = 50
  }
  container_definitions = jsonencode([{
    name      = "proxy"
    image     = "${var.image_registry}/bytefreezer-proxy:${var.image_tag}"
    essential = true
    # syslog arrives on UDP and TCP on the same port; every listed port is also TCP
    portMappings = concat([{ containerPort = var.udp_port, protocol = "udp" }],
    [for p in local.containers.proxy.ports : { containerPort = p, protocol = "tcp" }])
    environment = [for k, v in local.containers.proxy.environment : { name = k, value = v }]
    secrets     = local.has_control ? [{ name = "CONTROL_API_KEY", valueFrom = var.control_service_api_key_arn }] : []
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/bytefreezer-proxy", "--healthcheck"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 20
    }
    stopTimeout = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.proxy.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "proxy"
      }
    }
  }])
  tags = local.tags
}

resource "aws_ecs_service" "proxy" {
  name                              = local.name
  cluster                           = aws_ecs_cluster.this.id
  launch_type                       = "FARGATE"
  task_definition                   = aws_ecs_task_definition.proxy.arn
  desired_count                     = var.desired_count
  health_check_grace_period_seconds = 30
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.proxy.id]
    assign_public_ip = var.assign_public_ip
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.udp.arn
    container_name   = "proxy"
    container_port   = var.udp_port
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.tcp.arn
    container_name   = "proxy"
    container_port   = var.udp_port
  }
  depends_on = [aws_lb_listener.udp, aws_lb_listener.tcp]
  tags       = local.tags
}
