// The App routes keys to the view on top of its stack, carries out what views ask for
// (open a function, go back, quit) and the session-wide keys (help, info, views, focus,
// event), and composes the screen: a title bar, the view's rows, a status bar.
#pragma once

#include <memory>
#include <vector>

#include "tui/session.hpp"
#include "tui/view.hpp"

namespace kprof::tui {

struct Screen {
    std::vector<Span> title;
    std::vector<Row> body;  // at most height - 2 rows
    std::vector<Span> status;
};

class App {
  public:
    explicit App(Session& session);  // opens the Functions view (the home screen)
    ~App();

    void handle(const Key& key);
    // The whole terminal of `viewport`'s size: title, body rows, status.
    Screen screen(const Viewport& viewport);
    bool quitting() const { return quitting_; }

    View& top() { return *stack_.back(); }
    size_t depth() const { return stack_.size(); }
    void push(std::unique_ptr<View> view);
    Session& session() { return session_; }

  private:
    void perform(const Action& action);
    void global_key(const Key& key);
    void refresh_all();

    Session& session_;
    std::vector<std::unique_ptr<View>> stack_;
    bool quitting_ = false;
    std::string message_;  // one-shot note for the status bar ("no other event")
};

}  // namespace kprof::tui
