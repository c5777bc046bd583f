// An answer as Markdown: prose through Qt's Markdown text (headings, lists,
// tables, emphasis, links), fenced code as CodeBlock with a copy button.
import QtQuick
import QtQuick.Layouts
import Ossdesk

ColumnLayout {
    id: root
    required property ChatController chat
    property var blocks: []
    spacing: 8

    Repeater {
        model: root.blocks
        delegate: Loader {
            required property var modelData
            Layout.fillWidth: true
            sourceComponent: modelData.kind === "code" ? codeComponent : proseComponent
            Component {
                id: proseComponent
                TextEdit {
                    text: modelData.text
                    textFormat: TextEdit.MarkdownText
                    readOnly: true
                    selectByMouse: true
                    wrapMode: Text.Wrap
                    color: Theme.text
                    font.pixelSize: Theme.baseSize
                    onLinkActivated: link => Qt.openUrlExternally(link)
                }
            }
            Component {
                id: codeComponent
                CodeBlock { code: modelData.text; language: modelData.language; chat: root.chat }
            }
        }
    }
}
