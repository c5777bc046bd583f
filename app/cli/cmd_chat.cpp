// `chat` and `history`: the same SQLite history the app uses. `chat` commits
// the user's message before generating, prints the conversation id first,
// streams the answer to the terminal while saving it (as `partial`, at most
// every ~300 ms), and records how it ended. Ctrl-C cancels cleanly; a kill
// leaves a partial answer that the next open marks interrupted.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "history_bridge.h"
#include "ossdesk/engine.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/error.h"
#include "ossdesk/storage/history.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/streaming.h"

namespace ossdesk::cli {

GenerationSettings generation_settings(const Args& args);  // cmd_generate.cpp

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

storage::Database open_history(const std::string& path) {
  try {
    storage::Database db = storage::Database::open(path);
    if (db.recovery()) std::fprintf(stderr, "%s\n", db.recovery()->message.c_str());
    return db;
  } catch (const storage::StorageError& e) {
    fail_input(e.what());
  }
}

// Sampling: what the command line says, else what the conversation keeps.
void apply_conversation_sampling(const Args& args, const storage::SamplingSettings& kept, GenerationSettings& g) {
  if (!args.has("temperature") && kept.temperature) g.temperature = static_cast<float>(*kept.temperature);
  if (!args.has("top-p") && kept.top_p) g.top_p = static_cast<float>(*kept.top_p);
  if (!args.has("top-k") && kept.top_k) g.top_k = static_cast<int>(*kept.top_k);
  if (!args.has("min-p") && kept.min_p) g.min_p = static_cast<float>(*kept.min_p);
  if (!args.has("max-tokens") && kept.max_tokens) g.max_tokens = static_cast<int>(*kept.max_tokens);
  if (!args.has("seed") && kept.seed) g.seed = static_cast<std::uint64_t>(*kept.seed);
}

// The sampling options given on the command line, to keep with a new conversation.
storage::SamplingSettings sampling_given(const Args& args, const GenerationSettings& g) {
  storage::SamplingSettings s;
  if (args.has("temperature")) s.temperature = g.temperature;
  if (args.has("top-p")) s.top_p = g.top_p;
  if (args.has("top-k")) s.top_k = g.top_k;
  if (args.has("min-p")) s.min_p = g.min_p;
  if (args.has("seed")) s.seed = static_cast<std::int64_t>(g.seed);
  return s;
}

}  // namespace

int cmd_chat(const Argv& argv) {
  Args args("chat", argv,
            with_backend_options({"model", "db", "conversation", "message", "reasoning", "temperature", "top-k", "top-p",
                                  "min-p", "seed", "max-tokens"}),
            {});
  const std::string model_path = args.get("model");
  const std::string message = args.get("message");
  GenerationSettings settings = generation_settings(args);
  storage::Database db = open_history(args.get("db"));
  try {
    storage::RowId conversation_id;
    storage::ConversationSettings conv_settings;
    if (args.has("conversation")) {
      conversation_id = args.get_int("conversation", 0);
      conv_settings = storage::get_conversation(db, conversation_id).settings;
      if (!args.has("reasoning")) settings.reasoning = parse_reasoning_effort(conv_settings.reasoning_effort).value_or(settings.reasoning);
      apply_conversation_sampling(args, conv_settings.sampling, settings);
    } else {
      conv_settings.model = model_path;
      conv_settings.reasoning_effort = to_string(settings.reasoning);
      conv_settings.sampling = sampling_given(args, settings);
      conversation_id = storage::create_conversation(db, {storage::derive_title(message), conv_settings, {}});
    }
    Conversation conversation = bridge::to_conversation(storage::visible_thread(db, conversation_id), conv_settings);
    storage::NewMessage user_message;
    user_message.role = storage::Role::User;
    user_message.content = message;
    const storage::RowId user_id = storage::append_message(db, conversation_id, user_message);
    conversation.messages.push_back({"user", message, "", "", "", ""});
    std::printf("%lld\n", static_cast<long long>(conversation_id));
    std::fflush(stdout);

    auto engine = Engine::load(model_path, engine_options(args));
    storage::MessageStats start_stats;
    start_stats.model = model_path;
    start_stats.backend = engine->backend_name();
    start_stats.device = engine->device_name();
    start_stats.reasoning_effort = to_string(settings.reasoning);
    storage::StreamingAnswerWriter writer(db, conversation_id, user_id, start_stats);
    std::signal(SIGINT, on_sigint);
    auto session = engine->create_session();
    Event done;
    GenerationStats stats;
    std::string error;
    session->submit(conversation, settings, [&](const Event& e) {
      if (g_interrupted) session->cancel();
      switch (e.type) {
        case EventType::ReasoningDelta: writer.append_reasoning(e.text); break;
        case EventType::FinalDelta:
        case EventType::CommentaryDelta:
          writer.append_content(e.text);
          std::fwrite(e.text.data(), 1, e.text.size(), stdout);
          std::fflush(stdout);
          break;
        case EventType::ToolCall: writer.add_tool_call({"", e.recipient, e.text}); break;
        case EventType::Stats: stats = e.stats; break;
        case EventType::Error: error = e.text; break;
        case EventType::Done: done = e; break;
      }
    });
    session->wait();
    std::signal(SIGINT, SIG_DFL);
    writer.finish(bridge::status_of(done.finish), bridge::stats_of(stats, model_path, start_stats.reasoning_effort), error);
    std::printf("\n");
    std::fprintf(stderr, "TTFT %.2f s · decode %.1f tok/s · %d tokens · %s (%s)\n", stats.ttft_ms / 1000.0,
                 stats.decode_tokens_per_s, stats.generated_tokens, to_string(done.finish), engine->backend_name().c_str());
    if (!error.empty()) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    return done.finish == FinishReason::Cancelled ? 130 : 0;
  } catch (const storage::StorageError& e) {
    throw Error(ErrorKind::Io, e.what());
  }
}

int cmd_history(const Argv& argv) {
  Args args("history", argv, {"db", "conversation", "search"}, {"json"});
  storage::Database db = open_history(args.get("db"));
  storage::HistoryQuery q;
  if (args.has("conversation")) q.conversation_id = args.get_int("conversation", 0);
  if (args.has("search")) q.search = args.get("search");
  try {
    std::cout << storage::history_json(db, q);
  } catch (const storage::StorageError& e) {
    fail_input(e.what());
  }
  return 0;
}

}  // namespace ossdesk::cli
