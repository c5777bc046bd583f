// Qt Quick Test runner for the app's QML: the real window (Ossdesk.Ui Main)
// over the real controllers, a real history file and the scripted engine. The
// QML tests reach them through `testApp` (controllers) and `probe` (what the
// scripted engine received).
#include <QClipboard>
#include <QGuiApplication>
#include <QQmlContext>
#include <QQmlEngine>
#include <QtQuickTest>

#include <memory>

#include "app_fixture.h"
#include "fake_chat_engine.h"

void qml_register_types_Ossdesk();
void qml_register_types_Ossdesk_Ui();

using namespace ossdesk;

// What QML may ask about the scripted engine.
class EngineProbe : public QObject {
  Q_OBJECT
 public:
  explicit EngineProbe(test::FakeChatEngine& engine) : engine_(engine) {}
  Q_INVOKABLE int submissions() const { return static_cast<int>(engine_.settings().size()); }
  Q_INVOKABLE QString lastEffort() const {
    const auto s = engine_.settings();
    return s.empty() ? QString() : QString::fromLatin1(to_string(s.back().reasoning));
  }
  // An answer with a heading, a list, a table and code (for screenshots).
  Q_INVOKABLE void setRichAnswer() {
    test::FakeScript script;
    script.analysis = {"The user wants a comparison. ", "I should give a short table ", "and a code sample for loading."};
    script.final = {"## MXFP4 in short\n\n", "MXFP4 stores weights in **4 bits** with a shared scale per block of 32:\n\n",
                    "- smaller files\n- faster decode\n\n",
                    "| format | bits | 20b size |\n|---|---|---|\n| BF16 | 16 | 41.8 GB |\n| MXFP4 | 4.25 | 12.8 GB |\n\n",
                    "```cpp\nauto engine = ossdesk::Engine::load(\"gpt-oss-20b.gguf\", {});\n```\n"};
    script.delay = std::chrono::milliseconds(40);  // so "Thought for" shows a real time
    engine_.set_script(script);
  }
  // Any script: the reasoning and answer pieces (about a token each) and the
  // pause after each piece.
  Q_INVOKABLE void setScript(const QStringList& analysis, const QStringList& final, int delay_ms) {
    test::FakeScript script;
    script.analysis.clear();
    script.final.clear();
    for (const QString& piece : analysis) script.analysis.push_back(piece.toStdString());
    for (const QString& piece : final) script.final.push_back(piece.toStdString());
    script.delay = std::chrono::milliseconds(delay_ms);
    engine_.set_script(script);
  }
  // What the next loads report a GPU backend could not do ("" : nothing failed).
  Q_INVOKABLE void setFallback(const QString& text) { engine_.set_fallback(text.toStdString()); }
  // Where the engine says its weights are: place "device" | "reading" | "memory" | "disk".
  Q_INVOKABLE void setWeights(const QString& place, double bytes, double bytes_read, const QString& note) {
    WeightsStatus s;
    for (WeightsPlace p : {WeightsPlace::Device, WeightsPlace::Reading, WeightsPlace::Memory, WeightsPlace::Disk})
      if (place == to_string(p)) s.place = p;
    s.bytes = static_cast<std::uint64_t>(bytes);
    s.bytes_read = static_cast<std::uint64_t>(bytes_read);
    s.note = note.toStdString();
    engine_.set_weights(s);
  }
  // What the app last put on the clipboard.
  Q_INVOKABLE QString clipboardText() const { return QGuiApplication::clipboard()->text(); }
  // Where tests write screenshots; empty: none.
  Q_INVOKABLE QString screenshotDir() const { return qEnvironmentVariable("OSSDESK_SCREENSHOT_DIR"); }
  // A long, slow answer (for stop), or the short default.
  Q_INVOKABLE void setLongAnswer(bool long_answer) {
    test::FakeScript script;
    if (long_answer) {
      script.final.assign(3000, "word ");
      script.delay = std::chrono::milliseconds(2);
    }
    engine_.set_script(script);
  }

 private:
  test::FakeChatEngine& engine_;
};

class Setup : public QObject {
  Q_OBJECT
 public slots:
  void qmlEngineAvailable(QQmlEngine* engine) {
    qml_register_types_Ossdesk();
    qml_register_types_Ossdesk_Ui();
    engine->addImportPath(QStringLiteral("qrc:/"));
    app_ = std::make_unique<test::AppUnderTest>("app-qml", test::factory_for(&fake_));
    probe_ = std::make_unique<EngineProbe>(fake_);
    engine->rootContext()->setContextProperty("testChat", app_->chat.get());
    engine->rootContext()->setContextProperty("testModels", app_->models.get());
    engine->rootContext()->setContextProperty("testSettings", app_->settings.get());
    engine->rootContext()->setContextProperty("probe", probe_.get());
  }
  void cleanupTestCase() {
    app_.reset();
    probe_.reset();
  }

 private:
  test::FakeChatEngine fake_;
  std::unique_ptr<test::AppUnderTest> app_;
  std::unique_ptr<EngineProbe> probe_;
};

QUICK_TEST_MAIN_WITH_SETUP(app_qml, Setup)

#include "qml_test_main.moc"
