variable "environment" {
  type    = string
  default = "production"
  validation {
    condition     = contains(["production", "staging", "development"], var.environment)
    error_message = "environment must be production, staging or development."
  }
}

variable "site_name" {
  description = "Short site name (lower case letters, digits, dashes)"
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,40}$", var.site_name))
    error_message = "site_name: lower case letters, digits and dashes, at most 41 characters."
  }
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "image_tag" {
  type    = string
  default = "latest"
}

variable "image_registry" {
  type    = string
  default = "ghcr.io/bytefreezer"
}

variable "receiver_url" {
  description = "The processing stack's receiver_url output"
  type        = string
}

variable "control_service_url" {
  description = "Control service URL; empty = static tenants from tenants_bucket/tenants_key"
  type        = string
  default     = ""
}

variable "control_service_api_key_arn" {
  type    = string
  default = ""
}

variable "control_account_id" {
  type    = string
  default = ""
}

variable "tenants_bucket" {
  description = "Bucket holding the static tenants file (without a control service)"
  type        = string
  default     = ""
}

variable "tenants_key" {
  type    = string
  default = "tenants.yaml"
}

variable "desired_count" {
  type    = number
  default = 1
}

variable "udp_port" {
  description = "Syslog port (UDP and TCP); must match the datasets' source port"
  type        = number
  default     = 5514
}

variable "allowed_ingress_cidr" {
  type    = string
  default = "0.0.0.0/0"
}

variable "assign_public_ip" {
  type    = bool
  default = true
}

variable "cpu" {
  type    = number
  default = 512
}

variable "memory" {
  type    = number
  default = 1024
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "tags" {
  type    = map(string)
  default = {}
}
