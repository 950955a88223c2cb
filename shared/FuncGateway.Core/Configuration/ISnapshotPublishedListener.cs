namespace FuncGateway.Configuration;

/// <summary>
/// Told about every snapshot the registry publishes, right after requests start to use it, under the registry's build
/// lock (so builds and notifications never overlap). Must not block: discovery starts and stops its sources here.
/// </summary>
internal interface ISnapshotPublishedListener
{
    void Published(GatewaySnapshot snapshot);

    /// <summary>
    /// True when this listener may ask for <see cref="GatewayRegistry.RebuildAsync"/> while <paramref name="snapshot"/>
    /// is current (an input of it changes outside the tables). Only then does the registry keep the rows the snapshot
    /// was built from: at 10,000 routes they are megabytes that nothing else needs.
    /// </summary>
    bool MayRebuild(GatewaySnapshot snapshot) => false;
}
