output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  value = aws_ecs_cluster.this.arn
}

output "receiver_url" {
  description = "Point the proxies' receiver.url here"
  value       = local.has_cert ? "https://${aws_lb.receiver.dns_name}" : "http://${aws_lb.receiver.dns_name}"
}

output "receiver_alb_dns" {
  value = aws_lb.receiver.dns_name
}

output "intake_bucket_name" {
  value = aws_s3_bucket.this["intake"].bucket
}

output "piper_bucket_name" {
  value = aws_s3_bucket.this["piper"].bucket
}

output "packer_bucket_name" {
  value = aws_s3_bucket.this["packer"].bucket
}

output "geoip_bucket_name" {
  value = aws_s3_bucket.this["geoip"].bucket
}

output "tenants_uri" {
  description = "Static tenant registry location (used when no control service is configured)"
  value       = "s3://${aws_s3_bucket.this["geoip"].bucket}/tenants.yaml"
}

output "receiver_service_name" {
  value = aws_ecs_service.receiver.name
}

output "piper_service_name" {
  value = aws_ecs_service.piper.name
}

output "packer_service_name" {
  value = aws_ecs_service.packer.name
}
