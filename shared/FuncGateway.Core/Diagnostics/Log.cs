using Microsoft.Extensions.Logging;

namespace FuncGateway.Diagnostics;

/// <summary>Every log line the core writes, source-generated, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Registry snapshot {Version} loaded: {RouteCount} routes, {UpstreamCount} upstream pools, {RejectedCount} rejected rows.")]
    public static partial void SnapshotLoaded(ILogger logger, long version, int routeCount, int upstreamCount, int rejectedCount);

    [LoggerMessage(1001, LogLevel.Warning, "Registry row rejected: table {Table}, partition '{PartitionKey}', row '{RowKey}': {Reason}")]
    public static partial void RowRejected(ILogger logger, string table, string partitionKey, string rowKey, string reason);

    [LoggerMessage(1007, LogLevel.Warning, "Registry row served with a warning: table {Table}, partition '{PartitionKey}', row '{RowKey}': {Reason}")]
    public static partial void RowWarning(ILogger logger, string table, string partitionKey, string rowKey, string reason);

    [LoggerMessage(1002, LogLevel.Warning, "Registry read failed; keeping snapshot {Version} (loaded {LoadedAt:O}). {Error}")]
    public static partial void RegistryReadFailedKeepingSnapshot(ILogger logger, long version, DateTimeOffset loadedAt, string error);

    [LoggerMessage(1003, LogLevel.Error, "Registry read failed and no snapshot is loaded yet; the gateway answers 503 until storage is reachable. {Error}")]
    public static partial void RegistryReadFailedNoSnapshot(ILogger logger, string error);

    [LoggerMessage(1009, LogLevel.Error, "Registry table {Table} is missing, but the gateway has seen it before: it was deleted, or storage was restored without it. It is not created empty. Until it exists again, running instances keep their last good snapshot and starting ones answer 503 no_configuration: import the registry (fgw import), or create the table if an empty one is meant.")]
    public static partial void RegistryTableLost(ILogger logger, string table);

    [LoggerMessage(1004, LogLevel.Debug, "Registry unchanged (fingerprint {Fingerprint}).")]
    public static partial void RegistryUnchanged(ILogger logger, string fingerprint);

    [LoggerMessage(1008, LogLevel.Information, "First snapshot of {RowCount} rows built; compacted the heap: {BeforeMiB} MiB → {AfterMiB} MiB in {Milliseconds} ms.")]
    public static partial void HeapCompacted(ILogger logger, int rowCount, long beforeMiB, long afterMiB, long milliseconds);

    [LoggerMessage(1006, LogLevel.Error, "Reading the registry failed unexpectedly; keeping the previous snapshot.")]
    public static partial void RegistryReadFailedUnexpectedly(ILogger logger, Exception exception);

    [LoggerMessage(1005, LogLevel.Error, "Building the registry snapshot failed unexpectedly; keeping the previous snapshot.")]
    public static partial void SnapshotBuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(2000, LogLevel.Warning, "Upstream {Destination} for route '{RouteId}' failed: {Error} → {StatusCode}.")]
    public static partial void ForwardingFailed(ILogger logger, string routeId, string destination, string error, int statusCode, Exception? exception);

    [LoggerMessage(2001, LogLevel.Debug, "Client went away during forwarding on route '{RouteId}': {Error}.")]
    public static partial void ClientAborted(ILogger logger, string routeId, string error);

    [LoggerMessage(2002, LogLevel.Warning, "Forwarding on route '{RouteId}' failed after the response had started: {Error}.")]
    public static partial void ForwardingFailedAfterStart(ILogger logger, string routeId, string error, Exception? exception);

    [LoggerMessage(2003, LogLevel.Information, "Request refused: {Code}. {Detail}")]
    public static partial void RequestRefused(ILogger logger, string code, string detail);

    [LoggerMessage(2004, LogLevel.Error, "Completion step {Step} failed; the response was not affected.")]
    public static partial void CompletionFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(2005, LogLevel.Warning, "The upstream's response on route '{RouteId}' is over the {MaxBytes}-byte buffer limit; answered 502 response_too_large.")]
    public static partial void ResponseTooLarge(ILogger logger, string routeId, long maxBytes);

    [LoggerMessage(2006, LogLevel.Warning, "WebSocket on route '{RouteId}' refused: the server already holds Kestrel:Limits:MaxConcurrentUpgradedConnections upgraded connections; answered 503 tunnel_limit_reached.")]
    public static partial void TunnelLimitReached(ILogger logger, string routeId);

    [LoggerMessage(2007, LogLevel.Warning, "The upstream's response body on route '{RouteId}' did not arrive within the route's timeout; answered 504 upstream_timeout.")]
    public static partial void ResponseBodyTimedOut(ILogger logger, string routeId);

    [LoggerMessage(2008, LogLevel.Warning, "The upstream of route '{RouteId}' answered 101 to a request that was not forwarded as an upgrade; answered 502 upstream_error.")]
    public static partial void UnrequestedSwitchingProtocols(ILogger logger, string routeId);

    [LoggerMessage(3000, LogLevel.Warning, "Admin request to {Path} from {Client} refused: missing or wrong admin key. Further refusals of this client are counted, not logged, for the rest of the {WindowSeconds} s window (event 3005 sums them up).")]
    public static partial void AdminUnauthorized(ILogger logger, string path, string client, int windowSeconds);

    [LoggerMessage(3005, LogLevel.Warning, "Admin requests refused in the last {WindowSeconds} s: {Refused} from {Clients}{More} client addresses, {Unlogged} of them not logged one by one (event 3000); {Throttled} answered 429 admin_throttled.")]
    public static partial void AdminUnauthorizedSummary(ILogger logger, int refused, int windowSeconds, int clients, string more, int unlogged, int throttled);

    [LoggerMessage(3001, LogLevel.Information, "Admin forced a registry reload.")]
    public static partial void AdminReload(ILogger logger);

    [LoggerMessage(3003, LogLevel.Error, "FuncGateway:Admin:Key is an unresolved Key Vault reference; the admin surface stays off until the app can read the secret (check the app's identity has 'Key Vault Secrets User').")]
    public static partial void AdminKeyUnresolved(ILogger logger);

    [LoggerMessage(3004, LogLevel.Warning, "FuncGateway:Admin:Key has only {Length} characters: a key this short can be guessed: each client address is limited to FuncGateway:Admin:MaxFailedAttempts wrong keys per window and instance, but many addresses get many guesses. Use at least {MinLength}, e.g. the output of 'openssl rand -hex 24'.")]
    public static partial void AdminKeyShort(ILogger logger, int length, int minLength);

    [LoggerMessage(3002, LogLevel.Error, "Unhandled exception in the gateway pipeline for {Method} {Path}.")]
    public static partial void UnhandledException(ILogger logger, string method, string path, Exception exception);
}
