#include "shared/aws/errors.h"

#include <nlohmann/json.hpp>

namespace shared::aws {
namespace {

// "aws.protocoltests#FooError:http://internal" -> "FooError".
std::string short_code(std::string code) {
  if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  if (auto hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  return code;
}

}  // namespace

ErrorShape parse_error_shape(const std::string& error_type_header, const std::string& body) {
  ErrorShape shape;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!error_type_header.empty()) shape.code = short_code(error_type_header);
  if (j.is_object()) {
    if (shape.code.empty()) {
      for (const char* key : {"__type", "code", "Code"}) {
        if (j.contains(key) && j[key].is_string()) {
          shape.code = short_code(j[key].get<std::string>());
          break;
        }
      }
    }
    for (const char* key : {"message", "Message", "errorMessage"}) {
      if (j.contains(key) && j[key].is_string()) {
        shape.message = j[key].get<std::string>();
        break;
      }
    }
  } else if (!body.empty()) {
    shape.message = body.substr(0, 512);
  }
  return shape;
}

}  // namespace shared::aws
