// The backpressure of one relayed response, without sockets: bytes from the upstream wait here
// until the client has taken the previous ones, and the upstream is read only while the bytes
// held (waiting plus being written) are under the bound (APP_RELAY_BUFFER). So a slow client
// slows its upstream instead of growing memory, and a fast one gets each piece as it arrives.
// The relay asks next() after every event and does what it says.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace app {

class RelayFlow {
 public:
  explicit RelayFlow(std::size_t bound) : bound_(bound) {}

  struct Next {
    bool read_upstream = false;  // start a read: there is room and the upstream has more
    bool write_client = false;   // start a write of take()
    bool end = false;            // everything arrived and went out
  };
  Next next() const;

  // Upstream side.
  std::size_t room() const { return bound_ - pending_.size() - in_flight_; }
  // Adds up to room() bytes; returns how many were taken.
  std::size_t add(std::string_view bytes);
  void reading(bool under_way) { reading_ = under_way; }
  void upstream_ended() { ended_ = true; }

  // Client side.
  std::string take();  // the bytes waiting, now being written
  void written();      // that write is over

  std::size_t pending() const { return pending_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  bool is_reading() const { return reading_; }
  bool is_writing() const { return writing_; }
  bool ended() const { return ended_; }
  // The bytes written so far end between two events ("\n\n"), or nothing was written yet: an SSE
  // comment may go out here without splitting an event.
  bool at_event_boundary() const { return at_event_boundary_; }

 private:
  std::size_t bound_;
  std::string pending_;
  std::size_t in_flight_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool ended_ = false;
  bool at_event_boundary_ = true;
};

}  // namespace app
