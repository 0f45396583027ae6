output "sns_topic_arn" {
  description = "Topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of all alarms."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.alb_5xx : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.unhealthy_hosts : a.alarm_name],
    [aws_cloudwatch_metric_alarm.cpu.alarm_name, aws_cloudwatch_metric_alarm.memory.alarm_name, aws_cloudwatch_metric_alarm.task_count.alarm_name],
  )
}
