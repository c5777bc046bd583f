// What a user gets from `cmake --install` and the .deb (packaging/): the
// programs run from the installed tree and find the CUDA plugin there (also
// after the tree is moved, as the .tar.gz is), the window opens, the desktop
// entry and AppStream data validate and point at what was installed, and the
// package depends on every QML module the window imports.
#include <QDir>
#include <QDirIterator>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int code = -1;
  QString output;  // stdout and stderr together
};

Run run(const QString& program, const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
        int timeout_ms = 300000) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.setProcessEnvironment(env);
  p.setWorkingDirectory(QDir::rootPath());  // nothing may be found relative to the build
  p.start(program, args);
  Run r;
  if (!p.waitForStarted(30000)) {
    r.output = program + QStringLiteral(": ") + p.errorString();
    return r;
  }
  p.waitForFinished(timeout_ms);
  r.output = QString::fromUtf8(p.readAll());
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  return r;
}

// The environment of a user's shell: no override of where the CUDA plugin is.
QProcessEnvironment user_environment() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove(QStringLiteral("OSSDESK_CUDA_LIBRARY"));
  return env;
}

#ifdef OSSDESK_TEST_GUI
QString read_text(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// "Key=value" of a desktop entry's [Desktop Entry] group.
QString desktop_key(const QString& entry, const QString& key) {
  const QRegularExpression re(QStringLiteral("^%1=(.*)$").arg(QRegularExpression::escape(key)), QRegularExpression::MultilineOption);
  return re.match(entry).captured(1).trimmed();
}

// The Debian package of a QML module as Debian names them: QtQuick.Controls
// is in qml6-module-qtquick-controls.
QString debian_package_of_qml_module(const QString& module) {
  return QStringLiteral("qml6-module-") + module.toLower().replace(QLatin1Char('.'), QLatin1Char('-'));
}

// The Qt modules ui/*.qml imports (not ours, not JavaScript files).
QSet<QString> qt_modules_imported_by_the_window() {
  QSet<QString> modules;
  const QRegularExpression import_line(QStringLiteral("^import\\s+([A-Za-z][\\w.]*)"), QRegularExpression::MultilineOption);
  QDirIterator it(QStringLiteral(OSSDESK_UI_DIR), {QStringLiteral("*.qml")});
  while (it.hasNext()) {
    auto matches = import_line.globalMatch(read_text(it.next()));
    while (matches.hasNext()) {
      const QString module = matches.next().captured(1);
      if (module.startsWith(QLatin1String("Qt"))) modules.insert(module);
    }
  }
  return modules;
}

// Package names of a Depends/Recommends field: "a (>= 1), b | c" -> a, b, c.
QSet<QString> package_names(const QString& field) {
  QSet<QString> names;
  for (const QString& alternative : field.split(QRegularExpression(QStringLiteral("[,|]")), Qt::SkipEmptyParts)) {
    const QString name = alternative.trimmed().section(QLatin1Char(' '), 0, 0);
    if (!name.isEmpty()) names.insert(name);
  }
  return names;
}

const QString kAppId = QStringLiteral(OSSDESK_APP_ID);
// Where the desktop files go, relative to the prefix.
const QString kDesktopEntry = QStringLiteral(OSSDESK_INSTALL_DATADIR "/applications/") + kAppId + QStringLiteral(".desktop");
const QString kMetainfo = QStringLiteral(OSSDESK_INSTALL_DATADIR "/metainfo/") + kAppId + QStringLiteral(".metainfo.xml");
#endif

}  // namespace

class InstallTest : public QObject {
  Q_OBJECT

  QTemporaryDir work_;
  QString prefix_;  // where `cmake --install` put the tree

  QString installed(const QString& relative) const { return prefix_ + QLatin1Char('/') + relative; }
  QString bin(const QString& program) const { return installed(QStringLiteral(OSSDESK_INSTALL_BINDIR "/") + program); }

 private slots:
  void initTestCase() {
    QVERIFY(work_.isValid());
    prefix_ = work_.filePath(QStringLiteral("usr"));
    const Run r = run(QStringLiteral(OSSDESK_CMAKE_COMMAND), {QStringLiteral("--install"), QStringLiteral(OSSDESK_BUILD_DIR),
                                                              QStringLiteral("--prefix"), prefix_});
    QVERIFY2(r.code == 0, qPrintable(r.output));
  }

  void installs_the_programs_the_plugin_and_the_desktop_files() {
    QStringList expected = {QStringLiteral(OSSDESK_INSTALL_BINDIR "/ossdesk-cli")};
#ifdef OSSDESK_TEST_GUI
    expected << QStringLiteral(OSSDESK_INSTALL_BINDIR "/ossdesk")
             << kDesktopEntry << kMetainfo
             << QStringLiteral(OSSDESK_INSTALL_DATADIR "/icons/hicolor/scalable/apps/") + kAppId + QStringLiteral(".svg")
             << QStringLiteral(OSSDESK_INSTALL_DATADIR "/icons/hicolor/256x256/apps/") + kAppId + QStringLiteral(".png");
#endif
#ifdef OSSDESK_TEST_CUDA_PLUGIN
    expected << QStringLiteral(OSSDESK_INSTALL_PLUGINDIR "/" OSSDESK_TEST_CUDA_PLUGIN);
#endif
    for (const QString& path : expected) QVERIFY2(QFileInfo::exists(installed(path)), qPrintable(path + " was not installed"));
    QVERIFY(QFileInfo(bin(QStringLiteral("ossdesk-cli"))).isExecutable());
    // Nothing but what is listed above: no static libraries, headers or
    // test programs.
    QDirIterator all(prefix_, QDir::Files, QDirIterator::Subdirectories);
    while (all.hasNext()) {
      const QString path = QDir(prefix_).relativeFilePath(all.next());
      QVERIFY2(expected.contains(path), qPrintable(path + " is installed but not expected"));
    }
  }

  // The engine runs from the installed tree and loads the installed plugin,
  // not the build's; after the tree is moved (a .tar.gz unpacked anywhere) it
  // still finds it there.
  void the_installed_cli_runs_and_finds_its_plugin_after_a_move() {
    const QString model = QStringLiteral(OSSDESK_TEST_DATA_DIR "/golden/tiny-a");
    for (int moved = 0; moved < 2; ++moved) {
      if (moved) {
        const QString elsewhere = work_.filePath(QStringLiteral("unpacked/somewhere"));
        QVERIFY(QDir().mkpath(QFileInfo(elsewhere).path()));
        QVERIFY(QDir().rename(prefix_, elsewhere));
        prefix_ = elsewhere;
      }
      const Run info = run(bin(QStringLiteral("ossdesk-cli")), {QStringLiteral("info"), QStringLiteral("--model"), model}, user_environment());
      QVERIFY2(info.code == 0, qPrintable(info.output));
      QVERIFY2(info.output.contains(QStringLiteral("backends:")), qPrintable(info.output));
#ifdef OSSDESK_TEST_CUDA_PLUGIN
      const QString plugin = QDir::cleanPath(installed(QStringLiteral(OSSDESK_INSTALL_PLUGINDIR "/" OSSDESK_TEST_CUDA_PLUGIN)));
      QVERIFY2(info.output.contains(QStringLiteral("from ") + QDir::toNativeSeparators(plugin)), qPrintable(info.output));
#endif
      const QString out = work_.filePath(QStringLiteral("logits.safetensors"));
      const Run logits = run(bin(QStringLiteral("ossdesk-cli")),
                             {QStringLiteral("logits"), QStringLiteral("--model"), model, QStringLiteral("--tokens"), QStringLiteral("1,2,3"),
                              QStringLiteral("--backend"), QStringLiteral("cpu"), QStringLiteral("--out"), out},
                             user_environment());
      QVERIFY2(logits.code == 0, qPrintable(logits.output));
      QVERIFY(QFileInfo(out).size() > 3 * 1024 * 4);  // 3 positions x 1024 vocabulary x f32, and a header
      QVERIFY(QFile::remove(out));
    }
  }

#ifdef OSSDESK_TEST_GUI
  // The installed app opens its window on a fresh profile and draws it.
  void the_installed_app_opens_its_window() {
    const QString profile = work_.filePath(QStringLiteral("profile"));
    const QString shot = work_.filePath(QStringLiteral("window.png"));
    QProcessEnvironment env = user_environment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    const Run r = run(bin(QStringLiteral("ossdesk")),
                      {QStringLiteral("--profile"), profile, QStringLiteral("--screenshot"), shot, QStringLiteral("--after-ms"), QStringLiteral("500")},
                      env, 120000);
    QVERIFY2(r.code == 0, qPrintable(r.output));
    QVERIFY(QFileInfo::exists(profile + QStringLiteral("/history.sqlite3")));
    const QImage image(shot);
    QVERIFY2(image.width() >= 640 && image.height() >= 400, qPrintable(shot));
    QSet<QRgb> colours;  // a drawn window, not a blank surface
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    QVERIFY2(colours.size() > 8, qPrintable(QString::number(colours.size()) + " colours"));
  }

  // desktop-file-validate and appstreamcli accept what was installed, and
  // each names the others: the entry runs an installed program and shows an
  // installed icon; the metainfo launches the entry and its newest release
  // is this version.
  void the_desktop_entry_and_metainfo_validate_and_agree() {
    const QString desktop = installed(kDesktopEntry);
    const QString metainfo = installed(kMetainfo);
    for (const char* tool : {"desktop-file-validate", "appstreamcli"})
      QVERIFY2(!QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty(),
               qPrintable(QStringLiteral("%1 is missing: packaging/install-deps.sh installs it").arg(QLatin1String(tool))));
    const Run entry_check = run(QStringLiteral("desktop-file-validate"), {desktop});
    QVERIFY2(entry_check.code == 0 && entry_check.output.trimmed().isEmpty(), qPrintable(entry_check.output));
    const Run metainfo_check = run(QStringLiteral("appstreamcli"), {QStringLiteral("validate"), QStringLiteral("--no-net"), metainfo});
    QVERIFY2(metainfo_check.code == 0, qPrintable(metainfo_check.output));

    const QString entry = read_text(desktop);
    QCOMPARE(desktop_key(entry, QStringLiteral("Exec")).section(QLatin1Char(' '), 0, 0), QStringLiteral("ossdesk"));
    QVERIFY(QFileInfo(bin(QStringLiteral("ossdesk"))).isExecutable());
    QCOMPARE(desktop_key(entry, QStringLiteral("Icon")), kAppId);
    QCOMPARE(desktop_key(entry, QStringLiteral("StartupWMClass")), QStringLiteral("ossdesk"));  // the window's X11 class

    const QString xml = read_text(metainfo);
    QVERIFY(xml.contains(QStringLiteral("<id>") + kAppId + QStringLiteral("</id>")));
    QVERIFY(xml.contains(QStringLiteral("<launchable type=\"desktop-id\">") + kAppId + QStringLiteral(".desktop</launchable>")));
    const QRegularExpression first_release(QStringLiteral("<release\\s+version=\"([^\"]+)\""));
    QCOMPARE(first_release.match(xml).captured(1), QStringLiteral(OSSDESK_VERSION));
  }

  // The .deb: the programs, plugin and desktop files under /usr; Depends has
  // the QML module of every Qt import in ui/*.qml, which dpkg-shlibdeps cannot
  // see, beside the linked libraries it does see.
  void the_deb_depends_on_every_qml_module_the_window_imports() {
    const QString out = work_.filePath(QStringLiteral("packages"));
    const Run cpack = run(QStringLiteral(OSSDESK_CPACK_COMMAND),
                          {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
                           QStringLiteral(OSSDESK_BUILD_DIR "/CPackConfig.cmake"), QStringLiteral("-B"), out});
    QVERIFY2(cpack.code == 0, qPrintable(cpack.output));
    const QStringList debs = QDir(out).entryList({QStringLiteral("*.deb")}, QDir::Files);
    QCOMPARE(debs.size(), 1);
    const QString deb = out + QLatin1Char('/') + debs.first();

    const Run depends = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-f"), deb, QStringLiteral("Depends")});
    QVERIFY2(depends.code == 0, qPrintable(depends.output));
    const QSet<QString> needed = package_names(depends.output);
    const QSet<QString> imports = qt_modules_imported_by_the_window();
    QVERIFY(imports.contains(QStringLiteral("QtQuick.Controls")));  // the scan reads the imports
    for (const QString& module : imports)
      QVERIFY2(needed.contains(debian_package_of_qml_module(module)),
               qPrintable(module + " is imported by ui/ but " + debian_package_of_qml_module(module) + " is not in Depends: " + depends.output));
    for (const char* linked : {"libqt6quick6", "libqt6qml6", "libsqlite3-0", "libvulkan1"})
      QVERIFY2(needed.contains(QLatin1String(linked)), qPrintable(QStringLiteral("%1 is not in Depends: ").arg(QLatin1String(linked)) + depends.output));

    const Run contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-c"), deb});
    QVERIFY2(contents.code == 0, qPrintable(contents.output));
    QStringList files = {QStringLiteral("./usr/" OSSDESK_INSTALL_BINDIR "/ossdesk"), QStringLiteral("./usr/" OSSDESK_INSTALL_BINDIR "/ossdesk-cli"),
                         QStringLiteral("./usr/") + kDesktopEntry};
#ifdef OSSDESK_TEST_CUDA_PLUGIN
    files << QStringLiteral("./usr/" OSSDESK_INSTALL_PLUGINDIR "/" OSSDESK_TEST_CUDA_PLUGIN);
#endif
    for (const QString& file : files)
      QVERIFY2(contents.output.contains(QLatin1Char(' ') + file + QLatin1Char('\n')), qPrintable(file + " is not in the package"));
  }
#endif
};

QTEST_GUILESS_MAIN(InstallTest)
#include "test_install.moc"
