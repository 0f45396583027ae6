#include "api/sessions_api.h"

#include "api/json_view.h"
#include "identifiers.h"
#include "publish/update_publisher.h"
#include "shared/http_server.h"

namespace agent::api {
namespace {

using shared::http::HttpError;

// A 400 whose message starts with the field at fault, e.g. "text: must be a string".
HttpError invalid(const std::string& field, const std::string& why) {
  return HttpError(400, "invalid_request", field + ": " + why);
}

std::string user_of(const httplib::Request& req) {
  if (!req.has_header("X-User-Id")) throw shared::http::unauthorized("X-User-Id is missing");
  const std::string user = req.get_header_value("X-User-Id");
  if (!is_valid_user_id(user)) throw shared::http::unauthorized("X-User-Id is not a valid user id");
  return user;
}

// The session id from the path; a malformed one cannot exist, so it is a 404 like any other.
std::string session_of(const httplib::Request& req) {
  const std::string id = req.matches[1];
  if (!is_session_id(id)) throw shared::http::not_found("no such session");
  return id;
}

// A tool call id from the path: what models and the demo use (letters, digits, '_', '-', '.',
// ':'); anything else cannot be one, so it is a 404 like an unknown one.
bool is_call_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

template <typename F>
void guarded(F&& f) {
  try {
    f();
  } catch (const store::BadCursor&) {
    throw invalid("cursor", "is not a cursor this API issued");
  } catch (const store::StoreError& e) {
    throw HttpError(503, "store_unavailable", std::string("the session store failed: ") + e.what());
  }
}

}  // namespace

void SessionsApi::install(httplib::Server& server) {
  auto bind = [this](void (SessionsApi::*handler)(const httplib::Request&, httplib::Response&)) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) {
      guarded([&] { (this->*handler)(req, res); });
    };
  };
  server.Post("/v1/sessions", bind(&SessionsApi::create_session));
  server.Get("/v1/sessions", bind(&SessionsApi::list_sessions));
  server.Get(R"(/v1/sessions/([^/]+))", bind(&SessionsApi::get_session));
  server.Patch(R"(/v1/sessions/([^/]+))", bind(&SessionsApi::rename_session));
  server.Delete(R"(/v1/sessions/([^/]+))", bind(&SessionsApi::delete_session));
  server.Post(R"(/v1/sessions/([^/]+)/messages)", bind(&SessionsApi::post_message));
  server.Post(R"(/v1/sessions/([^/]+)/cancel)", bind(&SessionsApi::cancel_turn));
  server.Post(R"(/v1/sessions/([^/]+)/approvals/([^/]+))", bind(&SessionsApi::answer_approval));
}

std::string SessionsApi::title_from(const nlohmann::json& body, bool required) const {
  if (!body.contains("title") || body["title"].is_null()) {
    if (required) throw invalid("title", "is required");
    return "New chat";
  }
  if (!body["title"].is_string()) throw invalid("title", "must be a string");
  std::string title = body["title"].get<std::string>();
  // Titles are one line: control characters become spaces, ends are trimmed.
  for (auto& c : title)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  const auto first = title.find_first_not_of(' ');
  title = first == std::string::npos ? ""
                                     : title.substr(first, title.find_last_not_of(' ') - first + 1);
  if (title.empty()) throw invalid("title", "must not be empty");
  if (title.size() > settings_.max_title_bytes)
    throw invalid("title",
                  "is longer than " + std::to_string(settings_.max_title_bytes) + " bytes");
  return title;
}

int SessionsApi::page_limit(const httplib::Request& req) const {
  if (!req.has_param("limit")) return settings_.default_page_size;
  const std::string text = req.get_param_value("limit");
  int value = 0;
  if (text.empty() || text.size() > 6)
    throw invalid("limit",
                  "must be an integer from 1 to " + std::to_string(settings_.max_page_size));
  for (char c : text) {
    if (c < '0' || c > '9')
      throw invalid("limit",
                    "must be an integer from 1 to " + std::to_string(settings_.max_page_size));
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > settings_.max_page_size)
    throw invalid("limit",
                  "must be an integer from 1 to " + std::to_string(settings_.max_page_size));
  return value;
}

void SessionsApi::create_session(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto body = shared::http::parse_json_body(req);
  const auto session = store_.create_session(user, title_from(body, false));
  shared::http::send_json(res, 201, session_json(session));
}

void SessionsApi::list_sessions(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto page = store_.list_sessions(user, page_limit(req), req.get_param_value("cursor"));
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& s : page.items) sessions.push_back(session_json(s));
  shared::http::send_json(
      res, 200,
      {{"sessions", sessions},
       {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json()}});
}

void SessionsApi::get_session(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  const auto limit = page_limit(req);
  const auto session = store_.get_session(user, id);
  if (!session) throw shared::http::not_found("no such session");
  const auto page = store_.list_messages(user, id, limit, req.get_param_value("cursor"));
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : page.items) messages.push_back(message_json(m));
  auto body = session_json(*session);
  body["messages"] = messages;
  body["next_cursor"] = page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json();
  body["topic"] = publish::session_topic(user, id);
  shared::http::send_json(res, 200, body);
}

void SessionsApi::rename_session(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  const auto body = shared::http::parse_json_body(req);
  const auto session = store_.rename_session(user, id, title_from(body, true));
  if (!session) throw shared::http::not_found("no such session");
  shared::http::send_json(res, 200, session_json(*session));
}

void SessionsApi::delete_session(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  engine_.cancel(user, id);
  if (!store_.delete_session(user, id)) throw shared::http::not_found("no such session");
  res.status = 204;
}

void SessionsApi::post_message(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  const auto body = shared::http::parse_json_body(req);
  if (!body.contains("text")) throw invalid("text", "is required");
  if (!body["text"].is_string()) throw invalid("text", "must be a string");
  const std::string text = body["text"].get<std::string>();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw invalid("text", "must not be empty");
  if (text.size() > settings_.max_message_bytes)
    throw HttpError(413, "payload_too_large",
                    "text: is longer than the limit of " +
                        std::to_string(settings_.max_message_bytes) + " bytes");
  try {
    const auto started = engine_.start_turn(user, id, text);
    shared::http::send_json(res, 202,
                            {{"turn_id", started.turn_id},
                             {"user_message_seq", started.user_message_seq},
                             {"assistant_message_seq", started.assistant_message_seq},
                             {"topic", publish::session_topic(user, id)}});
  } catch (const engine::TurnRefused& e) {
    using Reason = engine::TurnRefused::Reason;
    switch (e.reason()) {
      case Reason::kSessionMissing:
        throw shared::http::not_found("no such session");
      case Reason::kTurnRunning:
        throw HttpError(409, "turn_running", e.what());
      case Reason::kBusy:
        throw HttpError(503, "busy", e.what());
      case Reason::kStopping:
        throw HttpError(503, "shutting_down", e.what());
    }
    throw;
  }
}

void SessionsApi::cancel_turn(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  const auto turn_id = engine_.cancel(user, id);
  if (turn_id.empty() && !store_.get_session(user, id))
    throw shared::http::not_found("no such session");
  shared::http::send_json(
      res, 200,
      {{"cancelled", !turn_id.empty()},
       {"turn_id", turn_id.empty() ? nlohmann::json() : nlohmann::json(turn_id)}});
}

void SessionsApi::answer_approval(const httplib::Request& req, httplib::Response& res) {
  const auto user = user_of(req);
  const auto id = session_of(req);
  const std::string call_id = req.matches[2];
  const auto body = shared::http::parse_json_body(req);
  if (!body.contains("approved") || body["approved"].is_null())
    throw invalid("approved", "is required");
  if (!body["approved"].is_boolean()) throw invalid("approved", "must be true or false");
  const bool approved = body["approved"].get<bool>();
  const auto no_such_call = [] {
    return shared::http::not_found("no tool call of that id waits for approval in this session");
  };
  if (!is_call_id(call_id)) throw no_such_call();
  switch (engine_.decide_approval(user, id, call_id, approved)) {
    case engine::ToolApprovals::Answer::kRecorded:
      shared::http::send_json(res, 200, {{"call_id", call_id}, {"approved", approved}});
      return;
    case engine::ToolApprovals::Answer::kAlreadyDecided:
      throw HttpError(409, "approval_closed", "this tool call was already answered");
    case engine::ToolApprovals::Answer::kNotPending:
      break;
  }
  if (!store_.get_session(user, id)) throw shared::http::not_found("no such session");
  // A call the session's last turn made that no longer waits (answered, timed out, or its turn
  // ended) is a conflict; one it never made is unknown.
  for (const auto& m : store_.recent_messages(user, id, 2, 0))
    for (const auto& block : m.content)
      if (block.value("type", "") == "tool_call" && block.value("call_id", "") == call_id)
        throw HttpError(409, "approval_closed", "this tool call no longer waits for approval");
  throw no_such_call();
}

}  // namespace agent::api
