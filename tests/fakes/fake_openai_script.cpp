// What the fake OpenAI-compatible server says: scripted or default responses turned into
// chat.completion.chunk events or a chat.completion answer, and the checks a request must pass.
#include <algorithm>
#include <cctype>

#include "fake_openai.h"

namespace fakes {
namespace {

using nlohmann::json;

std::string kind_of(const json& r) { return r.value("kind", std::string("text")); }

// Text goes out a few characters per delta, as models stream it, never cutting a UTF-8 sequence.
std::vector<std::string> pieces_of(const std::string& text, std::size_t size) {
  std::vector<std::string> pieces;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + size);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.push_back(text.substr(i, end - i));
    i = end;
  }
  return pieces;
}

std::string arguments_of(const json& call) {
  const json args = call.value("arguments", json::object());
  return args.is_string() ? args.get<std::string>() : args.dump();
}

std::string finish_reason_of(const json& r) {
  if (r.contains("finish_reason")) return r["finish_reason"].get<std::string>();
  return kind_of(r) == "tool_calls" ? "tool_calls" : "stop";
}

json usage_of(const json& r) {
  if (r.contains("usage") && r["usage"].is_null()) return nullptr;
  json usage = r.value("usage", json{{"prompt_tokens", 21}, {"completion_tokens", 9}});
  usage["total_tokens"] = usage.value("prompt_tokens", 0) + usage.value("completion_tokens", 0);
  return usage;
}

class ChunkWriter {
 public:
  ChunkWriter(std::string model, bool include_usage, int number)
      : model_(std::move(model)),
        include_usage_(include_usage),
        id_("chatcmpl-fake-" + std::to_string(number)) {}

  json chunk(json choices) const {
    json c = {
        {"id", id_},       {"object", "chat.completion.chunk"}, {"created", 1767225600},
        {"model", model_}, {"system_fingerprint", "fp_fake"},   {"choices", std::move(choices)}};
    if (include_usage_) c["usage"] = nullptr;
    return c;
  }
  std::string delta(json d, const json& finish_reason = nullptr) const {
    return frame(chunk(json::array({{{"index", 0},
                                     {"delta", std::move(d)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish_reason}}})));
  }
  static std::string frame(const json& payload) { return "data: " + payload.dump() + "\n\n"; }

 private:
  std::string model_;
  bool include_usage_;
  std::string id_;
};

std::string last_user_text(const json& body, bool& after_tool, std::string& tool_output) {
  after_tool = false;
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    return "";
  const auto& messages = body["messages"];
  // The tool messages at the end answer the last tool calls.
  for (auto it = messages.rbegin(); it != messages.rend() && it->value("role", "") == "tool";
       ++it) {
    after_tool = true;
    if ((*it)["content"].is_string())
      tool_output = (*it)["content"].get<std::string>() + tool_output;
  }
  const auto& last = messages.back();
  if (last.value("role", "") == "user" && last.contains("content") && last["content"].is_string())
    return last["content"].get<std::string>();
  return "";
}

std::string check_tool_calls(const json& calls, const std::string& at,
                             std::vector<std::string>& pending) {
  if (!calls.is_array() || calls.empty()) return at + ".tool_calls: expected a non-empty array";
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    const std::string where = at + ".tool_calls[" + std::to_string(i) + "]";
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() ||
        c["id"].get<std::string>().empty())
      return where + ".id: expected a non-empty string";
    if (c.value("type", "") != "function") return where + ".type: expected 'function'";
    if (!c.contains("function") || !c["function"].is_object())
      return where + ".function: expected an object";
    const auto& f = c["function"];
    if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty())
      return where + ".function.name: expected a non-empty string";
    if (!f.contains("arguments") || !f["arguments"].is_string())
      return where + ".function.arguments: expected a string of JSON";
    if (!json::parse(f["arguments"].get<std::string>(), nullptr, false).is_object())
      return where + ".function.arguments: not a JSON object";
    pending.push_back(c["id"].get<std::string>());
  }
  return "";
}

}  // namespace

std::optional<std::string> check_chat_request(const json& body) {
  if (!body.is_object()) return "the body must be a JSON object";
  if (!body.contains("model") || !body["model"].is_string() ||
      body["model"].get<std::string>().empty())
    return "model: you must provide a model parameter";
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    return "messages: expected a non-empty array";
  std::vector<std::string> pending;  // tool_call_ids still to be answered
  const auto& messages = body["messages"];
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    const std::string role = m.is_object() ? m.value("role", "") : "";
    if (role == "tool") {
      const std::string id = m.contains("tool_call_id") && m["tool_call_id"].is_string()
                                 ? m["tool_call_id"].get<std::string>()
                                 : "";
      auto it = std::find(pending.begin(), pending.end(), id);
      if (it == pending.end())
        return at +
               ": messages with role 'tool' must be a response to a preceding message with "
               "'tool_calls' (tool_call_id '" +
               id + "')";
      pending.erase(it);
      if (!m.contains("content") || !m["content"].is_string())
        return at + ".content: expected a string";
      continue;
    }
    if (!pending.empty())
      return "an assistant message with 'tool_calls' must be followed by tool messages responding "
             "to each "
             "'tool_call_id'; missing: " +
             pending.front();
    if (role == "system" || role == "user" || role == "developer") {
      if (!m.contains("content") || !(m["content"].is_string() || m["content"].is_array()))
        return at + ".content: expected a string";
    } else if (role == "assistant") {
      const bool has_calls = m.contains("tool_calls");
      const bool content_ok = m.contains("content") &&
                              (m["content"].is_string() || (m["content"].is_null() && has_calls));
      if (!content_ok) return at + ".content: expected a string (or null with tool_calls)";
      if (has_calls) {
        const std::string problem = check_tool_calls(m["tool_calls"], at, pending);
        if (!problem.empty()) return problem;
      }
    } else {
      return at + ".role: expected one of system, user, assistant, tool";
    }
  }
  if (!pending.empty())
    return "an assistant message with 'tool_calls' must be followed by tool messages responding to "
           "each "
           "'tool_call_id'; missing: " +
           pending.front();
  if (body.contains("tools")) {
    const auto& tools = body["tools"];
    if (!tools.is_array() || tools.empty()) return "tools: [] is too short";
    for (std::size_t i = 0; i < tools.size(); ++i) {
      const auto& t = tools[i];
      const std::string at = "tools[" + std::to_string(i) + "]";
      if (!t.is_object() || t.value("type", "") != "function")
        return at + ".type: expected 'function'";
      if (!t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string())
        return at + ".function.name: expected a string";
      if (t["function"].contains("parameters") && !t["function"]["parameters"].is_object())
        return at + ".function.parameters: expected a JSON Schema object";
    }
  }
  if (body.contains("stream_options") && !body.value("stream", false))
    return "stream_options: only allowed when 'stream' is enabled";
  for (const char* key : {"max_tokens", "max_completion_tokens"})
    if (body.contains(key) && !(body[key].is_number_integer() && body[key].get<long>() > 0))
      return std::string(key) + ": expected a positive integer";
  if (body.contains("temperature") &&
      !(body["temperature"].is_number() && body["temperature"].get<double>() >= 0 &&
        body["temperature"].get<double>() <= 2))
    return "temperature: expected a number from 0 to 2";
  return std::nullopt;
}

json default_chat_response(const json& request_body, int number) {
  bool after_tool = false;
  std::string tool_output;
  const std::string text = last_user_text(request_body, after_tool, tool_output);
  if (after_tool) return {{"kind", "text"}, {"text", "The tool returned: " + tool_output}};
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.find("time") != std::string::npos)
    return {{"kind", "tool_calls"},
            {"text", "Let me check the time."},
            {"calls", json::array({{{"id", "call_fake_" + std::to_string(number)},
                                    {"name", "current_time"},
                                    {"arguments", json::object()}}})}};
  return {{"kind", "text"},
          {"text", "Hello from the fake OpenAI model. You said: " +
                       (text.empty() ? std::string("nothing") : text)}};
}

ChatStreamPlan plan_chat_stream(const json& r, const std::string& model, bool include_usage,
                                int number) {
  ChatStreamPlan plan;
  const ChunkWriter w(model, include_usage, number);
  const std::string kind = kind_of(r);
  plan.events.push_back(": fake-openai keeps the connection alive\n\n");
  plan.events.push_back(w.delta({{"role", "assistant"}, {"content", ""}}));
  if (r.contains("reasoning")) {
    const std::string field = r.value("reasoning_field", std::string("reasoning_content"));
    for (const auto& piece : pieces_of(r["reasoning"].get<std::string>(), 8))
      plan.events.push_back(w.delta({{field, piece}}));
  }
  for (const auto& piece : pieces_of(r.value("text", std::string()), 8))
    plan.events.push_back(w.delta({{"content", piece}}));
  if (kind == "error_mid_stream") {
    plan.events.push_back(
        ChunkWriter::frame({{"error",
                             {{"message", r.value("message", std::string("The model crashed."))},
                              {"type", "server_error"},
                              {"param", nullptr},
                              {"code", nullptr}}}}));
    return plan;
  }
  if (kind == "cut_mid_stream") {
    const std::string next = w.delta({{"content", "lost"}});
    plan.events.push_back(next.substr(0, next.size() / 2));
    plan.end = ChatStreamPlan::End::kCut;
    return plan;
  }
  if (kind == "stall") {
    plan.end = ChatStreamPlan::End::kStall;
    plan.stall_ms = r.value("stall_ms", 60'000);
    return plan;
  }
  if (kind == "tool_calls") {
    const json calls = r.value("calls", json::array());
    std::vector<std::vector<std::string>> fragments;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const std::string args = arguments_of(calls[i]);
      fragments.push_back(pieces_of(args, std::max<std::size_t>(1, (args.size() + 2) / 3)));
    }
    auto head = [&](std::size_t i) {
      return w.delta(
          {{"tool_calls", json::array({{{"index", i},
                                        {"id", calls[i].value("id", "call_" + std::to_string(i))},
                                        {"type", "function"},
                                        {"function",
                                         {{"name", calls[i].value("name", "current_time")},
                                          {"arguments", ""}}}}})}});
    };
    auto fragment = [&](std::size_t i, const std::string& piece) {
      return w.delta(
          {{"tool_calls", json::array({{{"index", i}, {"function", {{"arguments", piece}}}}})}});
    };
    if (r.value("interleave", false)) {
      for (std::size_t i = 0; i < calls.size(); ++i) plan.events.push_back(head(i));
      for (std::size_t round = 0;; ++round) {
        bool any = false;
        for (std::size_t i = 0; i < calls.size(); ++i)
          if (round < fragments[i].size()) {
            plan.events.push_back(fragment(i, fragments[i][round]));
            any = true;
          }
        if (!any) break;
      }
    } else {
      for (std::size_t i = 0; i < calls.size(); ++i) {
        plan.events.push_back(head(i));
        for (const auto& piece : fragments[i]) plan.events.push_back(fragment(i, piece));
      }
    }
  }
  plan.events.push_back(w.delta(json::object(), finish_reason_of(r)));
  const json usage = usage_of(r);
  if (include_usage && !usage.is_null()) {
    json last = w.chunk(json::array());
    last["usage"] = usage;
    plan.events.push_back(ChunkWriter::frame(last));
  }
  if (r.value("done", true)) plan.events.push_back("data: [DONE]\n\n");
  if (r.value("crlf", false))
    for (auto& e : plan.events) {
      std::string crlf;
      for (const char c : e) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
      e = crlf;
    }
  return plan;
}

json chat_completion_answer(const json& r, const std::string& model, int number) {
  json message = {{"role", "assistant"}, {"content", r.value("text", std::string())}};
  if (r.contains("reasoning"))
    message[r.value("reasoning_field", std::string("reasoning_content"))] = r["reasoning"];
  if (kind_of(r) == "tool_calls") {
    json calls = json::array();
    const json scripted = r.value("calls", json::array());
    for (std::size_t i = 0; i < scripted.size(); ++i)
      calls.push_back({{"id", scripted[i].value("id", "call_" + std::to_string(i))},
                       {"type", "function"},
                       {"function",
                        {{"name", scripted[i].value("name", "current_time")},
                         {"arguments", arguments_of(scripted[i])}}}});
    message["tool_calls"] = calls;
    if (message["content"] == "") message["content"] = nullptr;
  }
  json answer = {{"id", "chatcmpl-fake-" + std::to_string(number)},
                 {"object", "chat.completion"},
                 {"created", 1767225600},
                 {"model", model},
                 {"choices", json::array({{{"index", 0},
                                           {"message", message},
                                           {"logprobs", nullptr},
                                           {"finish_reason", finish_reason_of(r)}}})}};
  const json usage = usage_of(r);
  if (!usage.is_null()) answer["usage"] = usage;
  return answer;
}

std::vector<std::string> chat_stream_writes(const std::vector<std::string>& events,
                                            const std::string& chunking) {
  if (chunking == "event") return events;
  std::string all;
  for (const auto& e : events) all += e;
  if (chunking == "whole") return {all};
  std::size_t size = 1;
  if (chunking != "byte" && !chunking.empty() &&
      std::all_of(chunking.begin(), chunking.end(), ::isdigit))
    size = std::max<std::size_t>(1, std::stoul(chunking));
  std::vector<std::string> writes;
  for (std::size_t i = 0; i < all.size(); i += size) writes.push_back(all.substr(i, size));
  return writes;
}

}  // namespace fakes
