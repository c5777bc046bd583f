// An answer as Markdown: prose through Qt's Markdown text (headings, lists,
// tables, emphasis, links), fenced code as CodeBlock with a copy button.
// `blocks` (split_markdown, app/gui/markdown_blocks.h) is a new list on every
// streamed frame; ListSync writes only the blocks that changed, so only the
// growing last one is laid out again.
import QtQuick
import QtQuick.Layouts
import Ossdesk
import "ListSync.js" as ListSync

ColumnLayout {
    id: root
    required property ChatController chat
    property var blocks: []
    spacing: 8

    function sync() { ListSync.update(shown, root.blocks || [], ["kind", "text", "language"]) }
    onBlocksChanged: sync()
    Component.onCompleted: sync()

    ListModel { id: shown }
    Repeater {
        model: shown
        delegate: Loader {
            id: block
            required property string kind
            required property string text
            required property string language
            Layout.fillWidth: true
            sourceComponent: kind === "code" ? codeComponent : proseComponent
            Component {
                id: proseComponent
                TextEdit {
                    objectName: "answerProse"
                    text: block.text
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
                CodeBlock { code: block.text; language: block.language; chat: root.chat }
            }
        }
    }
}
