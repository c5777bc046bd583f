// What a new chat shows: how to start, and what runs where.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Item {
    id: root
    required property ChatController chat
    required property ModelController models
    signal openRequested()

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 48, 520)
        spacing: 12
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: "ossdesk"
            font.pixelSize: Theme.large * 1.6
            font.bold: true
            color: Theme.text
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            color: Theme.subtle
            text: root.models.state === "ready"
                  ? qsTr("%1 is ready on %2 (%3). Ask anything: nothing leaves this computer.")
                    .arg(root.models.modelName).arg(root.models.deviceName).arg(root.models.backendName)
                  : qsTr("Chat with gpt-oss on your own machine. Open a model to begin: a .gguf file or a Hugging Face gpt-oss folder.")
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            visible: root.models.state !== "ready" && root.models.state !== "loading"
            text: qsTr("Open model…")
            highlighted: true
            onClicked: root.openRequested()
        }
    }
}
