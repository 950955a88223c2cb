using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery.Kubernetes;

/// <summary>
/// Watches the EndpointSlices of one Service (label <c>kubernetes.io/service-name</c>) with the API server's
/// list/watch protocol: a list gives the slices and a resourceVersion, a watch from it streams ADDED/MODIFIED/DELETED
/// (and BOOKMARK) events, a closed watch resumes from the last resourceVersion, and a 410 Gone (HTTP status, or an
/// ERROR event with code 410) lists again. Publishes only when the instance list changed.
/// </summary>
internal sealed class KubernetesDiscoverySource(string pool, KubernetesSpecification specification, IKubernetes client, TimeProvider time, ILogger logger)
    : IDiscoverySource, IDiscoverySourceStatus
{
    /// <summary>The server ends each watch after this long (the client then resumes from the last resourceVersion).</summary>
    public const int WatchTimeoutSeconds = 300;

    /// <summary>A watch that the server closed without any event is not resumed sooner than this (no tight loop).</summary>
    public static readonly TimeSpan MinEmptyWatchInterval = TimeSpan.FromSeconds(1);

    private const int MaxReasonLength = 200;

    private readonly string _labelSelector = "kubernetes.io/service-name=" + specification.Service;
    private readonly DiscoveryRetry _retry = new(time);

    public string? LastError => _retry.LastError;

    public DateTimeOffset? LastErrorAt => _retry.LastErrorAt;

    public async Task WatchAsync(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publish);
        var state = new WatchState(publish);
        var retry = _retry;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (state.ResourceVersion is null)
                {
                    await ListAsync(state, cancellationToken);
                    if (retry.Failures > 0)
                    {
                        KubernetesLog.Recovered(logger, pool, specification.Namespace, specification.Service, retry.Failures);
                    }

                    retry.Succeed();
                }

                var started = time.GetTimestamp();
                if (!await WatchOnceAsync(state, cancellationToken) && MinEmptyWatchInterval - time.GetElapsedTime(started) is { Ticks: > 0 } pause)
                {
                    await Task.Delay(pause, time, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e) && state.ResourceVersion is not null)
            {
                KubernetesLog.Gone(logger, pool, state.ResourceVersion);
                state.ResourceVersion = null;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var reason = Describe(e);
                if (retry.Fail(reason))
                {
                    KubernetesLog.Unreachable(logger, pool, specification.Namespace, specification.Service, reason, state.Published?.Count ?? 0);
                }

                // After an outage, list again: events may have been missed, and the list shows the API server is back.
                state.ResourceVersion = null;
                if (!await retry.DelayAsync(cancellationToken))
                {
                    return;
                }
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task ListAsync(WatchState state, CancellationToken cancellationToken)
    {
        var list = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(specification.Namespace, labelSelector: _labelSelector, cancellationToken: cancellationToken);
        state.Slices.Clear();
        foreach (var slice in list.Items ?? [])
        {
            if (slice.Metadata?.Name is { } name)
            {
                state.Slices[name] = slice;
            }
        }

        state.ResourceVersion = list.Metadata?.ResourceVersion ?? string.Empty;
        await PublishIfChangedAsync(state);
    }

    /// <summary>One watch from the state's resourceVersion until the server closes it; false when it brought no event.</summary>
    private async Task<bool> WatchOnceAsync(WatchState state, CancellationToken cancellationToken)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? error = null;
        var events = false;
        try
        {
            await foreach (var (type, slice) in client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                specification.Namespace,
                allowWatchBookmarks: true,
                labelSelector: _labelSelector,
                resourceVersion: state.ResourceVersion,
                timeoutSeconds: WatchTimeoutSeconds,
                onError: e =>
                {
                    // An ERROR event (a Status, e.g. 410 Expired) or an unreadable line: stop this watch and let the caller decide.
                    error ??= e;
                    watch.Cancel();
                },
                cancellationToken: watch.Token))
            {
                events = true;
                if (slice?.Metadata is not { } metadata)
                {
                    continue;
                }

                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified when metadata.Name is { } name:
                        state.Slices[name] = slice;
                        break;
                    case WatchEventType.Deleted when metadata.Name is { } name:
                        state.Slices.Remove(name);
                        break;
                    default:
                        break;
                }

                state.ResourceVersion = metadata.ResourceVersion ?? state.ResourceVersion;
                if (type != WatchEventType.Bookmark)
                {
                    await PublishIfChangedAsync(state);
                }
            }
        }
        catch (OperationCanceledException) when (error is not null && !cancellationToken.IsCancellationRequested)
        {
        }
        catch (HttpRequestException e) when (!events && e.InnerException is EndOfStreamException)
        {
            // The client reads a watch's first line before it hands the stream over: a watch the server ends
            // (timeoutSeconds) before any event or bookmark surfaces as this. It is a normal end, not an outage.
            return false;
        }

        if (error is not null)
        {
            throw error;
        }

        return events;
    }

    private async Task PublishIfChangedAsync(WatchState state)
    {
        var instances = EndpointSliceInstances.From(state.Slices.Values, specification.PortName, specification.Scheme);
        if (!DiscoveredInstanceList.Same(state.Published, instances))
        {
            state.Published = instances;
            KubernetesLog.Changed(logger, pool, instances.Count, state.Slices.Count, state.ResourceVersion);
            await state.Publish(instances);
        }
    }

    /// <summary>410 Gone: the resourceVersion is older than the server keeps; only a new list can continue.</summary>
    private static bool IsGone(Exception e) => e switch
    {
        HttpOperationException { Response.StatusCode: HttpStatusCode.Gone } => true,
        KubernetesException { Status.Code: 410 } => true,
        _ => false,
    };

    private static string Describe(Exception e)
    {
        var text = e switch
        {
            HttpOperationException { Response: { } response } => $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {response.Content}",
            KubernetesException { Status: { } status } => $"watch error {status.Code} {status.Reason}: {status.Message}",
            _ => e.Message,
        };
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= MaxReasonLength ? line : line[..MaxReasonLength] + "…";
    }

    /// <summary>What one pool's watch knows: the slices by name, where to resume, and what it published last.</summary>
    private sealed class WatchState(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish)
    {
        public Dictionary<string, V1EndpointSlice> Slices { get; } = new(StringComparer.Ordinal);

        public string? ResourceVersion { get; set; }

        public IReadOnlyList<DiscoveredInstance>? Published { get; set; }

        public Func<IReadOnlyList<DiscoveredInstance>, ValueTask> Publish { get; } = publish;
    }
}
