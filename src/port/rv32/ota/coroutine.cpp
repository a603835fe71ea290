#include "privota/rv32/ota/coroutine.h"

#include <string.h>

extern "C" void privota_rv32_switch(uint32_t** save_sp, uint32_t* load_sp);
extern "C" void privota_rv32_coroutine_start();

namespace privota::rv32::ota {
namespace {

constexpr uint8_t kPaint = 0xA5;
// What privota_rv32_switch pushes: ra, s0-s11, padded to keep sp 16-byte aligned.
constexpr size_t kFrameWords = 16;
constexpr size_t kRa = 0;
constexpr size_t kS0 = 1;
constexpr size_t kS1 = 2;

}  // namespace

void Coroutine::start(ByteSpan stack, Entry entry, void* arg) {
  stack_ = stack.data();
  stack_size_ = stack.size() & ~size_t{15};
  memset(stack_, kPaint, stack_size_);
  entry_ = entry;
  arg_ = arg;
  // The first switch into the coroutine pops this frame and "returns" to privota_rv32_coroutine_start,
  // which calls run(this).
  uint32_t* frame = reinterpret_cast<uint32_t*>(stack_ + stack_size_) - kFrameWords;
  memset(frame, 0, kFrameWords * sizeof(uint32_t));
  frame[kRa] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&privota_rv32_coroutine_start));
  frame[kS0] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(this));
  frame[kS1] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&Coroutine::run));
  own_sp_ = frame;
  started_ = true;
  finished_ = false;
  inside_ = false;
}

void Coroutine::resume() {
  if (!started_ || finished_ || inside_) return;
  inside_ = true;
  privota_rv32_switch(&main_sp_, own_sp_);
  inside_ = false;
}

void Coroutine::yield() {
  if (!inside_) return;
  privota_rv32_switch(&own_sp_, main_sp_);
}

void Coroutine::run(void* self) {
  Coroutine& c = *static_cast<Coroutine*>(self);
  c.entry_(c.arg_);
  c.finished_ = true;
  // Never resumed again: its stack is free for the next start().
  privota_rv32_switch(&c.own_sp_, c.main_sp_);
}

void Coroutine::repaint() {
  if (!started_ || finished_ || inside_) return;
  uint8_t* in_use = reinterpret_cast<uint8_t*>(own_sp_);
  memset(stack_, kPaint, static_cast<size_t>(in_use - stack_));
}

uint32_t Coroutine::stack_peak() const {
  size_t untouched = 0;
  while (untouched < stack_size_ && stack_[untouched] == kPaint)
    ++untouched;
  return static_cast<uint32_t>(stack_size_ - untouched);
}

}  // namespace privota::rv32::ota
