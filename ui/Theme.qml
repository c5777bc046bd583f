// Colours, sizes and fonts for light and dark. Main.qml sets `dark` (from the
// setting, or the system palette) and `baseSize` (the font-size setting).
pragma Singleton
import QtQuick

QtObject {
    property bool dark: false
    property int baseSize: 14

    readonly property color window: dark ? "#1e1f22" : "#ffffff"
    readonly property color sidebar: dark ? "#17181a" : "#f4f4f6"
    readonly property color surface: dark ? "#2b2d31" : "#f0f1f4"
    readonly property color raised: dark ? "#313338" : "#ffffff"
    readonly property color text: dark ? "#e8e8ea" : "#1d1d1f"
    readonly property color subtle: dark ? "#9a9ca3" : "#6b6e76"
    readonly property color border: dark ? "#3a3c42" : "#dcdde2"
    readonly property color accent: dark ? "#6ea8fe" : "#2563eb"
    readonly property color accentText: "#ffffff"
    readonly property color selection: dark ? "#2f3a4f" : "#e3ebfd"
    readonly property color userBubble: dark ? "#2f3a4f" : "#e8effd"
    readonly property color codeBackground: dark ? "#141517" : "#f6f8fa"
    readonly property color warning: dark ? "#f0b35a" : "#a15c00"
    readonly property color danger: dark ? "#f28b82" : "#c5221f"

    readonly property int small: Math.round(baseSize * 0.86)
    readonly property int large: Math.round(baseSize * 1.3)
    readonly property string mono: Qt.platform.os === "windows" ? "Consolas" : "monospace"
    readonly property int radius: 8
    readonly property int gap: 8
}
