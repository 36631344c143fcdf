variable "environment" {
  description = "Deployment environment (production, staging, development)"
  type        = string
  default     = "production"
  validation {
    condition     = contains(["production", "staging", "development"], var.environment)
    error_message = "environment must be production, staging or development."
  }
}

variable "vpc_id" {
  description = "VPC to deploy into"
  type        = string
}

variable "subnet_ids" {
  description = "At least two subnets in different availability zones"
  type        = list(string)
}

variable "image_tag" {
  description = "Container image tag"
  type        = string
  default     = "latest"
}

variable "image_registry" {
  description = "Registry prefix; images are <registry>/bytefreezer-{receiver,piper,packer}:<tag>"
  type        = string
  default     = "ghcr.io/bytefreezer"
}

variable "control_service_url" {
  description = "Control service URL; empty = static tenants from s3://<geoip bucket>/tenants.yaml"
  type        = string
  default     = ""
}

variable "control_service_api_key_arn" {
  description = "Secrets Manager ARN whose plain string is the control API key (only with control_service_url)"
  type        = string
  default     = ""
}

variable "control_account_id" {
  description = "Control service account id (only with control_service_url)"
  type        = string
  default     = ""
}

variable "s3_bucket_prefix" {
  description = "Prefix of the bucket names"
  type        = string
  default     = "bytefreezer"
}

variable "receiver_desired_count" {
  type    = number
  default = 1
}

variable "piper_desired_count" {
  type    = number
  default = 1
}

variable "packer_desired_count" {
  type    = number
  default = 1
}

variable "certificate_arn" {
  description = "ACM certificate ARN; when set the ALB serves HTTPS on 443 and redirects 80"
  type        = string
  default     = ""
}

variable "allowed_ingress_cidr" {
  description = "Who may reach the ALB"
  type        = string
  default     = "0.0.0.0/0"
}

variable "assign_public_ip" {
  description = "Give tasks public IPs (public subnets without NAT)"
  type        = bool
  default     = true
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "staging_expiration_days" {
  description = "Safety-net expiry for objects left in the intake and piper buckets"
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
