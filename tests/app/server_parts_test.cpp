// Unit tests of the app server's parts that need no sockets: the request parser's limits and the
// folded-line scanner, the checks made once a head is in, the relay's backpressure, the hub
// stream budget, upstream URLs, gzip for the UI, and the ALB token header checks.
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/beast/http/error.hpp>

#include "alb_oidc_authenticator.h"
#include "head_checks.h"
#include "relay_flow.h"
#include "request_log.h"
#include "request_parser.h"
#include "response.h"
#include "response_framing.h"
#include "shared/config.h"
#include "shared/http_error.h"
#include "shared/jwt.h"
#include "static_site.h"
#include "stream_budget.h"
#include "upstream_url.h"

namespace app {
namespace {

namespace http = boost::beast::http;

struct Parsed {
  boost::system::error_code ec;
  bool header_done = false;
  bool done = false;
  std::size_t used = 0;
};

Parsed parse(RequestParser& parser, const std::string& bytes) {
  Parsed p;
  p.used = parser.put(boost::asio::buffer(bytes), p.ec);
  p.header_done = parser.is_header_done();
  p.done = parser.is_done();
  return p;
}

TEST(RequestParser, ReadsARequestWithItsHeadersInOrderAndItsBody) {
  RequestParser parser(16 * 1024, 64, 1024);
  const auto p = parse(parser,
                       "POST /api/sessions?x=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: "
                       "2\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_TRUE(p.done);
  const Request& req = parser.request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/api/sessions?x=1");
  EXPECT_EQ(req.path, "/api/sessions");
  EXPECT_EQ(req.version, 11);
  EXPECT_EQ(req.header_count("X-A"), 2u);
  EXPECT_EQ(req.header("x-a"), "1");
  EXPECT_EQ(req.body, "{}");
}

TEST(RequestParser, AHeadOverTheByteLimitIsRefusedBeforeItEnds) {
  RequestParser parser(1024, 64, 1024);
  // A request line without a newline, longer than the limit: refused without waiting for the end.
  const auto p = parse(parser, "GET /" + std::string(2048, 'a'));
  EXPECT_EQ(p.ec, http::error::header_limit);
}

TEST(RequestParser, MoreFieldsThanTheCountLimitAreRefusedWhileParsing) {
  RequestParser parser(64 * 1024, 8, 1024);
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 8; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  const auto p = parse(parser, head + "\r\n");
  EXPECT_EQ(p.ec, http::error::header_limit);
  EXPECT_LE(parser.request().headers.size(), 8u);
}

TEST(RequestParser, ABodyOverTheLimitIsRefusedFromItsContentLength) {
  RequestParser parser(16 * 1024, 64, 100);
  const auto p = parse(parser, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(p.ec, http::error::body_limit);
}

TEST(RequestParser, NoticesAnyTransferEncoding) {
  RequestParser chunked(16 * 1024, 64, 100);
  chunked.eager(false);
  parse(chunked, "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED\r\n\r\n");
  EXPECT_TRUE(chunked.saw_transfer_encoding());
  RequestParser gzip_only(16 * 1024, 64, 100);
  gzip_only.eager(false);
  parse(gzip_only, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_TRUE(gzip_only.saw_transfer_encoding());
}

TEST(RequestParser, RefusesHeaderNamesWithSpacesAndTwoDifferentLengths) {
  RequestParser spaced(16 * 1024, 64, 100);
  EXPECT_EQ(parse(spaced, "GET / HTTP/1.1\r\nHost: a\r\nX-User-Id : x\r\n\r\n").ec,
            http::error::bad_field);
  RequestParser twice(16 * 1024, 64, 100);
  EXPECT_TRUE(
      parse(twice, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n")
          .ec);
}

TEST(FoldScanner, FindsAFoldedLineInPiecesAndIgnoresTheBody) {
  FoldScanner folds;
  const std::string head = "GET / HTTP/1.1\r\nX-Note: a\r\n X-User-Id: evil\r\n\r\n";
  bool found = false;
  for (std::size_t n = 1; n <= head.size() && !found; ++n)
    found = folds.folded(std::string_view(head).substr(0, n));
  EXPECT_TRUE(found);
  FoldScanner tab;
  EXPECT_TRUE(tab.folded("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"));
  FoldScanner clean;
  EXPECT_FALSE(clean.folded("POST / HTTP/1.1\r\nA: b\r\n\r\n line of the body\n after"));
}

Request head_of(std::initializer_list<std::pair<const char*, const char*>> headers,
                int version = 11) {
  Request req;
  req.method = "POST";
  req.version = version;
  for (const auto& [k, v] : headers) req.headers.add(k, v);
  return req;
}

TEST(CheckHead, RefusesTransferEncodingWith411AndLargeBodiesWith413) {
  EXPECT_EQ(check_head(head_of({{"Host", "a"}, {"Transfer-Encoding", "chunked"}}), true,
                       std::nullopt, 100)
                .status,
            411);
  const auto big = check_head(head_of({{"Host", "a"}}), false, 101, 100);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.code, "payload_too_large");
  EXPECT_FALSE(check_head(head_of({{"Host", "a"}}), false, 100, 100).refused());
}

TEST(CheckHead, NeedsOneHostOnHttp11) {
  EXPECT_EQ(check_head(head_of({}), false, std::nullopt, 100).status, 400);
  EXPECT_EQ(check_head(head_of({{"Host", "a"}, {"host", "b"}}), false, std::nullopt, 100).status,
            400);
  EXPECT_FALSE(check_head(head_of({}, 10), false, std::nullopt, 100).refused());
}

TEST(CheckHead, AnswersContinueOnlyWhenABodyIsExpectedAndRefusesOtherExpectations) {
  EXPECT_TRUE(check_head(head_of({{"Host", "a"}, {"Expect", "100-Continue"}}), false, 10, 100)
                  .send_continue);
  EXPECT_FALSE(check_head(head_of({{"Host", "a"}, {"Expect", "100-continue"}}), false, 0, 100)
                   .send_continue);
  EXPECT_EQ(check_head(head_of({{"Host", "a"}, {"Expect", "something"}}), false, 10, 100).status,
            417);
}

TEST(CheckHead, RefusesServerSideHeaderNames) {
  EXPECT_EQ(
      check_head(head_of({{"Host", "a"}, {"remote_addr", "1.2.3.4"}}), false, std::nullopt, 100)
          .status,
      400);
}

TEST(RelayFlow, ReadsOnlyWhileThereIsRoomAndWritesOnePieceAtATime) {
  RelayFlow flow(10);
  EXPECT_TRUE(flow.next().read_upstream);
  EXPECT_FALSE(flow.next().write_client);
  flow.reading(true);
  EXPECT_EQ(flow.add("abcdefghijkl"), 10u);  // only what fits
  flow.reading(false);
  auto next = flow.next();
  EXPECT_FALSE(next.read_upstream);  // full: the upstream waits
  EXPECT_TRUE(next.write_client);
  EXPECT_EQ(flow.take(), "abcdefghij");
  // Being written still counts against the bound.
  EXPECT_EQ(flow.room(), 0u);
  EXPECT_FALSE(flow.next().read_upstream);
  EXPECT_FALSE(flow.next().write_client);
  flow.written();
  EXPECT_EQ(flow.room(), 10u);
  EXPECT_TRUE(flow.next().read_upstream);
}

TEST(RelayFlow, ReadsAheadWhileAWriteIsUnderWayUpToTheBound) {
  RelayFlow flow(10);
  flow.add("abcd");
  EXPECT_EQ(flow.take(), "abcd");
  EXPECT_EQ(flow.room(), 6u);
  EXPECT_TRUE(flow.next().read_upstream);
  EXPECT_EQ(flow.add("efghijk"), 6u);
  EXPECT_FALSE(flow.next().write_client);  // one write at a time
  flow.written();
  EXPECT_EQ(flow.take(), "efghij");
}

TEST(RelayFlow, EndsOnlyWhenTheUpstreamEndedAndEverythingWentOut) {
  RelayFlow flow(10);
  flow.add("ab");
  flow.upstream_ended();
  EXPECT_FALSE(flow.next().end);
  EXPECT_FALSE(flow.next().read_upstream);
  flow.take();
  EXPECT_FALSE(flow.next().end);
  flow.written();
  EXPECT_TRUE(flow.next().end);
}

TEST(RelayFlow, KnowsWhetherTheLastWriteEndedAnEvent) {
  RelayFlow flow(100);
  EXPECT_TRUE(flow.at_event_boundary());
  flow.add("data: a\n");
  flow.take();
  EXPECT_FALSE(flow.at_event_boundary());
  flow.written();
  flow.add("\n");
  flow.take();
  EXPECT_FALSE(flow.at_event_boundary());  // only this write is looked at: "\n" alone
  flow.written();
  flow.add("data: b\n\n");
  flow.take();
  EXPECT_TRUE(flow.at_event_boundary());
}

TEST(StreamBudget, BoundsStreamsInAllAndPerKeyAndGivesPlacesBack) {
  std::size_t reported = 0;
  StreamBudget budget(3, 2, [&reported](std::size_t open) { reported = open; });
  auto a1 = budget.take("a");
  auto a2 = budget.take("a");
  StreamBudget::Refusal why = StreamBudget::Refusal::kNone;
  EXPECT_EQ(budget.take("a", &why), nullptr);
  EXPECT_EQ(why, StreamBudget::Refusal::kPerKey);
  auto b1 = budget.take("b");
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(reported, 3u);
  EXPECT_EQ(budget.take("c", &why), nullptr);
  EXPECT_EQ(why, StreamBudget::Refusal::kTotal);
  a1.reset();
  EXPECT_EQ(budget.open(), 2u);
  EXPECT_EQ(budget.open_for("a"), 1u);
  EXPECT_NE(budget.take("c"), nullptr);  // released at once: the temporary token goes
  EXPECT_EQ(reported, 2u);
}

TEST(UpstreamUrl, TakesPlainHttpWithPortAndBasePath) {
  const auto url = parse_upstream_url("APP_AGENT_URL", "http://127.0.0.1:8000/base/");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8000);
  EXPECT_EQ(url.base_path, "/base");
  EXPECT_EQ(url.address, "127.0.0.1");
  EXPECT_EQ(url.authority(), "127.0.0.1:8000");
  EXPECT_EQ(parse_upstream_url("APP_HUB_UPSTREAM", "http://localhost").port, 80);
  EXPECT_EQ(parse_upstream_url("APP_HUB_UPSTREAM", "http://localhost").address, "127.0.0.1");
}

TEST(UpstreamUrl, RefusesHttpsAndMalformedUrlsNamingTheSetting) {
  for (const char* bad : {"https://127.0.0.1:8000", "ftp://x", "http://", "http://a:99999",
                          "http://a:x", "http://a/?q"}) {
    try {
      parse_upstream_url("APP_AGENT_URL", bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const shared::ConfigError& e) {
      EXPECT_EQ(e.setting(), "APP_AGENT_URL") << bad;
    }
  }
}

std::string gunzip(const std::string& packed) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(Gzip, RoundTripsAndAcceptEncodingIsReadWithQValues) {
  const std::string text(5000, 'x');
  const std::string packed = gzip(text);
  EXPECT_LT(packed.size(), text.size());
  EXPECT_EQ(gunzip(packed), text);
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("br, identity"));
  EXPECT_FALSE(accepts_gzip(""));
}

TEST(Response, SetHeaderReplacesEveryCopyInAnyCase) {
  Response r;
  r.headers = {{"cache-control", "a"}, {"Cache-Control", "b"}};
  r.set_header("Cache-Control", "no-store");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(*r.header("CACHE-CONTROL"), "no-store");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
}

TEST(FrameHead, SetsTheLengthAndDropsFramingHeadersAndLineBreaksFromHandlers) {
  Response r = json_response(200, {{"a", 1}});
  r.headers.emplace_back("Content-Length", "999");
  r.headers.emplace_back("Transfer-Encoding", "chunked");
  r.headers.emplace_back("Connection", "upgrade");
  r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=1");
  HeadFraming framing;
  framing.request_id = "req-1";
  const FramedHead head = frame_head(r, framing);
  const std::string& t = head.text;
  EXPECT_EQ(t.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(t.find("\r\nContent-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(t.find("999"), std::string::npos);
  EXPECT_EQ(t.find("chunked"), std::string::npos);
  EXPECT_EQ(t.find("upgrade"), std::string::npos);
  EXPECT_EQ(t.find("Set-Cookie"), std::string::npos);
  EXPECT_NE(t.find("\r\nX-Request-Id: req-1\r\n"), std::string::npos);
  EXPECT_NE(t.find("\r\nDate: "), std::string::npos);
  EXPECT_EQ(t.find("Connection:"), std::string::npos);  // HTTP/1.1 keep-alive is the default
  EXPECT_TRUE(t.ends_with("\r\n\r\n"));
  EXPECT_TRUE(head.keep_alive);
}

TEST(FrameHead, StreamsChunkedToHttp11AndToTheEndOfTheConnectionForHttp10) {
  Response r;
  r.headers.emplace_back("Content-Type", "text/event-stream");
  HeadFraming framing;
  framing.stream = true;
  const FramedHead chunked = frame_head(r, framing);
  EXPECT_TRUE(chunked.chunked);
  EXPECT_NE(chunked.text.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(chunked.text.find("Content-Length"), std::string::npos);
  framing.version = 10;
  const FramedHead old = frame_head(r, framing);
  EXPECT_FALSE(old.chunked);
  EXPECT_FALSE(old.keep_alive);
  EXPECT_NE(old.text.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(chunk_size_line(26), "1a\r\n");
}

TEST(FrameHead, SaysCloseWhenTheConnectionClosesAndKeepAliveToHttp10) {
  Response r = error_response(413, "payload_too_large", "x");
  HeadFraming closing;
  closing.keep_alive = false;
  EXPECT_NE(frame_head(r, closing).text.find("Connection: close\r\n"), std::string::npos);
  HeadFraming old;
  old.version = 10;
  EXPECT_NE(frame_head(r, old).text.find("Connection: keep-alive\r\n"), std::string::npos);
  Response not_modified;
  not_modified.status = 304;
  EXPECT_EQ(frame_head(not_modified, HeadFraming{}).text.find("Content-Length"), std::string::npos);
}

TEST(RefusalFor, MapsParserErrorsToStatuses) {
  EXPECT_EQ(refusal_for(http::error::header_limit).status, 431);
  EXPECT_EQ(refusal_for(http::error::body_limit).status, 413);
  EXPECT_EQ(refusal_for(http::error::bad_transfer_encoding).status, 411);
  EXPECT_EQ(refusal_for(http::error::bad_version).status, 505);
  EXPECT_EQ(refusal_for(http::error::bad_field).status, 400);
  EXPECT_EQ(refusal_for(http::error::bad_method).code, std::string("bad_request"));
}

TEST(MethodLabel, KeepsTheLabelSetSmall) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(method_label("XYZZY"), "OTHER");
}

std::string b64(const std::string& text) { return shared::jwt::base64url_encode(text); }

TEST(AlbOidcAuthenticator, AnAlgThatIsNotAStringIs401NotACrash) {
  AlbOidcAuthenticator::Options options;
  options.signer_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1";
  options.keys_dir = "/nonexistent";
  AlbOidcAuthenticator auth(options);
  for (const char* alg : {"1", "{\"a\":1}", "[\"ES256\"]", "null", "true"}) {
    const std::string token = b64(std::string("{\"alg\":") + alg + ",\"kid\":\"k\",\"signer\":\"" +
                                  options.signer_arn + "\",\"exp\":9999999999}") +
                              "." + b64("{\"sub\":\"u\"}") + ".sig";
    try {
      auth.user_of(token);
      ADD_FAILURE() << alg << " was accepted";
    } catch (const shared::http::HttpError& e) {
      EXPECT_EQ(e.status(), 401) << alg;
    }
  }
  EXPECT_EQ(alb_token_kid(b64("{\"kid\":\"abc-1\"}") + ".x.y"), "abc-1");
  EXPECT_EQ(alb_token_kid(b64("{\"kid\":\"../x\"}") + ".x.y"), "");
  EXPECT_EQ(alb_token_kid(b64("{\"kid\":7}") + ".x.y"), "");
}

}  // namespace
}  // namespace app
