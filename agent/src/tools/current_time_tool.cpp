#include "tools/current_time_tool.h"

#include <cstdio>
#include <ctime>

#include "identifiers.h"

namespace agent::tools {
namespace {

// Parses "+05:30", "-08:00", "Z" or "UTC" into minutes; nullopt when malformed or out of range.
std::optional<int> parse_offset(const std::string& text) {
  if (text.empty() || text == "Z" || text == "UTC" || text == "utc") return 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return std::nullopt;
  for (int i : {1, 2, 4, 5})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  const int hours = (text[1] - '0') * 10 + (text[2] - '0');
  const int minutes = (text[4] - '0') * 10 + (text[5] - '0');
  if (hours > 14 || minutes > 59) return std::nullopt;
  const int total = hours * 60 + minutes;
  return text[0] == '-' ? -total : total;
}

}  // namespace

CurrentTimeTool::CurrentTimeTool(std::function<std::int64_t()> clock_ms)
    : clock_ms_(clock_ms ? std::move(clock_ms) : std::function<std::int64_t()>(now_ms)) {}

std::string CurrentTimeTool::description() const {
  return "Returns the current date and time. Optionally at a UTC offset such as +02:00.";
}

nlohmann::json CurrentTimeTool::input_schema() const {
  return {{"type", "object"},
          {"properties",
           {{"utc_offset",
             {{"type", "string"},
              {"description", "Offset from UTC as +HH:MM or -HH:MM; default UTC"}}}}},
          {"additionalProperties", false}};
}

ToolResult CurrentTimeTool::run(const nlohmann::json& input, const ToolContext&) {
  std::string offset_text = "Z";
  if (input.is_object() && input.contains("utc_offset")) {
    if (!input["utc_offset"].is_string()) return {"utc_offset must be a string like +02:00", true};
    offset_text = input["utc_offset"].get<std::string>();
  }
  const auto offset = parse_offset(offset_text);
  if (!offset)
    return {"utc_offset must look like +02:00 or -05:30, got '" + offset_text + "'", true};
  const std::int64_t now = clock_ms_();
  if (*offset == 0) return {format_timestamp(now), false};
  const std::time_t local = static_cast<std::time_t>(now / 1000 + *offset * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                *offset < 0 ? '-' : '+', std::abs(*offset) / 60, std::abs(*offset) % 60);
  return {text, false};
}

}  // namespace agent::tools
