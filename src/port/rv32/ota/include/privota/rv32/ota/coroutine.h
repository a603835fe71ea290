// Coroutine: a second flow of control with its own stack, switched to and from cooperatively (no timer, no
// preemption). The firmware's main loop resume()s it; it runs until it yield()s or its entry returns. The
// background OTA job runs this way on bare metal: it gives the CPU back whenever it waits (for the network,
// during a backoff, between flash operations), so the main loop never waits for the download.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/span.h"

namespace privota::rv32::ota {

class Coroutine {
 public:
  using Entry = void (*)(void* arg);

  // Prepares `entry(arg)` to run on `stack` (16-byte aligned, at least 1 KiB; painted to measure its peak).
  // It starts at the first resume(). Only when no coroutine runs here (not started, or finished).
  void start(ByteSpan stack, Entry entry, void* arg);
  // Runs the coroutine until it yields or ends. From the main loop only.
  void resume();
  // Back to whoever resumed. From inside the coroutine only; a no-op elsewhere (so code that may run on
  // either side can call it).
  void yield();

  bool inside() const { return inside_; }
  bool finished() const { return finished_; }
  bool started() const { return started_; }
  // The deepest the coroutine's stack ever reached (bytes), from the paint.
  uint32_t stack_peak() const;
  // While the coroutine is suspended: paints its unused stack again, so the next stack_peak() measures
  // what it reaches from now on (a phase of its work).
  void repaint();

 private:
  static void run(void* self);

  uint32_t* main_sp_ = nullptr;
  uint32_t* own_sp_ = nullptr;
  uint8_t* stack_ = nullptr;
  size_t stack_size_ = 0;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  bool started_ = false;
  bool inside_ = false;
  bool finished_ = false;
};

}  // namespace privota::rv32::ota
