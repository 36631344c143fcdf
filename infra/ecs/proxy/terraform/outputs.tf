output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  value = aws_ecs_cluster.this.arn
}

output "proxy_endpoint" {
  description = "Where syslog senders point (UDP and TCP)"
  value       = "${aws_lb.proxy.dns_name}:${var.udp_port}"
}

output "nlb_dns_name" {
  value = aws_lb.proxy.dns_name
}

output "nlb_arn" {
  value = aws_lb.proxy.arn
}

output "service_name" {
  value = aws_ecs_service.proxy.name
}

output "security_group_id" {
  value = aws_security_group.proxy.id
}
