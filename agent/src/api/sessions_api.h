// The agent's HTTP API (DESIGN §3): sessions and their messages, scoped to the user named in
// X-User-Id (which only the app sets), and the entry points of the turn engine (messages,
// cancel, and the answers to tool calls that wait for the user's approval).
#pragma once

#include <httplib.h>

#include "engine/turn_engine.h"
#include "store/session_store.h"

namespace agent::api {

struct ApiSettings {
  std::size_t max_message_bytes =
      32 * 1024;                      // AGENT_MAX_MESSAGE_BYTES: text of one message (413 past it)
  std::size_t max_title_bytes = 200;  // AGENT_MAX_TITLE_BYTES
  int default_page_size = 50;         // AGENT_PAGE_SIZE: when ?limit= is absent
  int max_page_size = 200;            // AGENT_MAX_PAGE_SIZE
};

class SessionsApi {
 public:
  SessionsApi(ApiSettings settings, store::SessionStore& store, engine::TurnEngine& engine)
      : settings_(settings), store_(store), engine_(engine) {}
  // Adds the /v1 routes.
  void install(httplib::Server& server);

 private:
  void create_session(const httplib::Request& req, httplib::Response& res);
  void list_sessions(const httplib::Request& req, httplib::Response& res);
  void get_session(const httplib::Request& req, httplib::Response& res);
  void rename_session(const httplib::Request& req, httplib::Response& res);
  void delete_session(const httplib::Request& req, httplib::Response& res);
  void post_message(const httplib::Request& req, httplib::Response& res);
  void cancel_turn(const httplib::Request& req, httplib::Response& res);
  void answer_approval(const httplib::Request& req, httplib::Response& res);

  std::string title_from(const nlohmann::json& body, bool required) const;
  int page_limit(const httplib::Request& req) const;

  ApiSettings settings_;
  store::SessionStore& store_;
  engine::TurnEngine& engine_;
};

}  // namespace agent::api
