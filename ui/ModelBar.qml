// The loaded model and where it runs ("gpt-oss-20b · Vulkan · RTX 4090"), why
// not on the GPU when auto had to run it elsewhere, the load progress with
// cancel, load errors in plain words, and the buttons to open a model and the
// settings.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Rectangle {
    id: root
    required property ModelController models
    signal openRequested()
    signal settingsRequested()
    color: Theme.window
    implicitHeight: layout.implicitHeight + 2 * Theme.gap

    ColumnLayout {
        id: layout
        anchors.fill: parent
        anchors.margins: Theme.gap
        RowLayout {
            Layout.fillWidth: true
            Label {
                objectName: "modelStatus"
                Layout.fillWidth: true
                elide: Text.ElideRight
                color: root.models.state === "ready" ? Theme.text : Theme.subtle
                text: root.models.state === "ready"
                      ? root.models.modelName + "  ·  " + root.models.backendName + "  ·  " + root.models.deviceName
                      : root.models.state === "loading" ? qsTr("Loading %1…").arg(root.models.modelName)
                      : qsTr("No model loaded")
                ToolTip.visible: statusHover.hovered && root.models.backendReason !== ""
                ToolTip.text: root.models.backendReason
                HoverHandler { id: statusHover }
            }
            Button { text: qsTr("Cancel"); visible: root.models.state === "loading"; onClicked: root.models.cancelLoad() }
            Button {
                objectName: "reloadModel"
                visible: root.models.reloadNeeded
                text: qsTr("Reload to apply settings")
                highlighted: true
                onClicked: root.models.reload()
            }
            Button { objectName: "openModel"; text: qsTr("Open model…"); onClicked: root.openRequested() }
            Button { objectName: "openSettings"; text: qsTr("Settings"); onClicked: root.settingsRequested() }
        }
        ProgressBar {
            visible: root.models.state === "loading"
            Layout.fillWidth: true
            value: root.models.progress
        }
        Label {
            visible: root.models.state === "loading"
            text: root.models.stage
            color: Theme.subtle
            font.pixelSize: Theme.small
        }
        // Auto ran the model off the GPU: say so, and what the GPU lacked.
        Label {
            objectName: "backendFallback"
            visible: root.models.state === "ready" && root.models.backendFallback !== ""
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            font.pixelSize: Theme.small
            color: Theme.warning
            text: qsTr("Running on %1: %2").arg(root.models.backendName).arg(root.models.backendFallback)
        }
        // The CPU reads the weights into memory after the load (the first
        // answer waits less once it is done), or cannot: they do not fit.
        Label {
            objectName: "weightsNote"
            readonly property string place: root.models.weightsPlace
            visible: root.models.state === "ready" && (place === "reading" || place === "disk")
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            font.pixelSize: Theme.small
            color: place === "disk" ? Theme.warning : Theme.subtle
            text: place === "reading"
                  ? qsTr("Reading the weights into memory: %1%. The first answer starts sooner once this is done.")
                        .arg(Math.floor(root.models.weightsProgress * 100))
                  : root.models.weightsNote.charAt(0).toUpperCase() + root.models.weightsNote.slice(1)
        }
        Label {
            visible: root.models.state === "error"
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            text: root.models.errorText
            color: Theme.danger
        }
    }
    Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.border }
}
