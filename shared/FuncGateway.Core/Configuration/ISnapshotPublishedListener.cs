namespace FuncGateway.Configuration;

/// <summary>
/// Told about every snapshot the registry publishes, right after requests start to use it, under the registry's build
/// lock (so builds and notifications never overlap). Must not block: discovery starts and stops its sources here.
/// </summary>
internal interface ISnapshotPublishedListener
{
    void Published(GatewaySnapshot snapshot);
}
