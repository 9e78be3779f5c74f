#include "tui/app.hpp"

#include "tui/flame_view.hpp"
#include "tui/function_view.hpp"
#include "tui/functions_view.hpp"
#include "tui/help_view.hpp"
#include "tui/info_view.hpp"
#include "tui/path_view.hpp"
#include "tui/text.hpp"
#include "tui/tree_view.hpp"

namespace kprof::tui {

App::App(Session& session) : session_(session) {
    push(std::make_unique<FunctionsView>(session_));
}

App::~App() = default;

void App::push(std::unique_ptr<View> view) {
    stack_.push_back(std::move(view));
}

void App::refresh_all() {
    for (auto& v : stack_) v->refresh();
}

void App::perform(const Action& action) {
    switch (action.kind) {
        case Action::Kind::ignored:
        case Action::Kind::handled:
            break;
        case Action::Kind::open_function:
            push(std::make_unique<FunctionView>(session_, action.function));
            break;
        case Action::Kind::open_paths:
            push(std::make_unique<PathView>(session_, action.function));
            break;
        case Action::Kind::back:
            if (stack_.size() > 1) stack_.pop_back();
            break;
        case Action::Kind::quit:
            quitting_ = true;
            break;
    }
}

void App::global_key(const Key& key) {
    const bool back_key =
        key.code == KeyCode::backspace || key.code == KeyCode::escape || key.code == KeyCode::left;
    if (back_key) {
        perform({.kind = Action::Kind::back});
        return;
    }
    if (key.code != KeyCode::character) return;
    switch (key.ch) {
        case 'q':
            quitting_ = true;
            break;
        case '?':
            push(std::make_unique<HelpView>());
            break;
        case 'I':
            push(std::make_unique<InfoView>(session_));
            break;
        case 't': {
            if (dynamic_cast<TreeView*>(&top()) != nullptr) break;
            const auto f = top().current_function();
            auto tree = std::make_unique<TreeView>(session_);
            if (f) tree->reveal(*f);
            push(std::move(tree));
            break;
        }
        case 'g':
            if (dynamic_cast<FlameView*>(&top()) == nullptr)
                push(std::make_unique<FlameView>(session_));
            break;
        case 'p':
            if (const auto f = top().current_function())
                perform({.kind = Action::Kind::open_paths, .function = *f});
            else
                message_ = "select a function first";
            break;
        case 'f':
            if (const auto f = top().current_function()) {
                session_.focus(*f);
                refresh_all();
            } else {
                message_ = "select a function first";
            }
            break;
        case 'F':
            if (session_.focused_function()) {
                session_.clear_focus();
                refresh_all();
            }
            break;
        case 'e':
            if (session_.next_event())
                refresh_all();
            else
                message_ = "the trace has no other event";
            break;
        default:
            break;
    }
}

void App::handle(const Key& key) {
    message_.clear();
    if (key.code == KeyCode::resize || key.code == KeyCode::none) return;
    const Action action = top().handle(key);
    if (action.kind == Action::Kind::ignored && !top().capturing_input())
        global_key(key);
    else
        perform(action);
}

Screen App::screen(const Viewport& viewport) {
    Screen s;
    Viewport body = viewport;
    body.height = std::max(0, viewport.height - 2);
    s.title.push_back({" kprof: " + top().title(), Style::title});
    s.body = top().rows(body);
    if (s.body.size() > static_cast<size_t>(body.height))
        s.body.resize(static_cast<size_t>(body.height));

    clip(s.body, static_cast<size_t>(std::max(viewport.width, 0)));
    const std::string view_status = top().status();
    if (!message_.empty())
        s.status.push_back({" " + message_ + " ", Style::warning});
    else if (!view_status.empty())
        s.status.push_back({" " + view_status + " ", Style::status});
    std::string facts = " " + escape(session_.trace_name()) + " | " + session_.event_name() +
                        " | total " + format_weight(session_.total_weight());
    const std::string filters = session_.filter_description();
    if (!filters.empty()) facts += " | " + filters;
    s.status.push_back({facts + " ", Style::status});
    if (session_.lost() > 0)
        s.status.push_back(
            {" ! " + std::to_string(session_.lost()) + " lost (I) ", Style::warning});
    s.status.push_back({" ? help ", Style::status});
    return s;
}

}  // namespace kprof::tui
