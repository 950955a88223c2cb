using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>The DNS sources' kinds and the one lookup client they share.</summary>
internal sealed class DnsLookup
{
    public const string DnsKind = "dns";
    public const string SrvKind = "srv";

    private readonly Lazy<ILookupClient> _client;

    public DnsLookup(IOptions<DiscoveryOptions> options)
    {
        Options = options.Value.Dns;
        var servers = ParseServers(Options.Servers, out var error) ?? throw new InvalidOperationException(error);
        var clientOptions = servers.Count == 0 ? new LookupClientOptions() : new LookupClientOptions([.. servers]);
        clientOptions.UseCache = false;
        clientOptions.Timeout = TimeSpan.FromSeconds(Options.TimeoutSeconds);
        clientOptions.Retries = 1;
        clientOptions.ThrowDnsErrors = false;
        clientOptions.ContinueOnDnsError = true;
        clientOptions.ContinueOnEmptyResponse = false;

        // Made when a pool first resolves: without servers configured it reads the machine's network interfaces and
        // resolver configuration, which a gateway without DNS discovery (most) should not pay for at start-up.
        _client = new Lazy<ILookupClient>(() => new LookupClient(clientOptions));
    }

    public DnsDiscoveryOptions Options { get; }

    public ILookupClient Client => _client.Value;

    /// <summary>
    /// <c>FuncGateway:Discovery:Dns:Servers</c>: comma-separated <c>address</c>, <c>address:port</c> or <c>[v6]:port</c>;
    /// null (with the reason) when an item is not one.
    /// </summary>
    public static List<IPEndPoint>? ParseServers(string? text, out string? error)
    {
        error = null;
        var result = new List<IPEndPoint>();
        foreach (var item in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPAddress.TryParse(item, out var address) && !item.Contains("]:", StringComparison.Ordinal)
                && (address.AddressFamily == AddressFamily.InterNetworkV6 || !item.Contains(':', StringComparison.Ordinal)))
            {
                result.Add(new IPEndPoint(address, 53));
            }
            else if (IPEndPoint.TryParse(item, out var endpoint) && endpoint.Port > 0)
            {
                result.Add(endpoint);
            }
            else
            {
                error = $"FuncGateway:Discovery:Dns:Servers: '{item}' is not an IP address or address:port (e.g. 10.0.0.10, 10.0.0.10:53, [fd00::10]:53).";
                return null;
            }
        }

        return result;
    }

    /// <summary>The records of one name and type; an empty list for a name that does not exist. Throws when no server answers usefully.</summary>
    public async Task<IDnsQueryResponse?> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await Client.QueryAsync(name, type, QueryClass.IN, cancellationToken);
        }
        catch (DnsResponseException ex)
        {
            throw new DiscoveryLookupException($"DNS {type} query for {name} failed: {ex.Message}", ex);
        }

        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return null;
        }

        if (response.HasError)
        {
            throw new DiscoveryLookupException($"DNS {type} query for {name} failed: {response.ErrorMessage} (from {response.NameServer}).");
        }

        return response;
    }

    public TimeSpan Clamp(int? ttlSeconds)
    {
        var seconds = Math.Clamp(ttlSeconds ?? Options.MinTtlSeconds, Options.MinTtlSeconds, Math.Max(Options.MinTtlSeconds, Options.MaxTtlSeconds));
        return TimeSpan.FromSeconds(seconds);
    }

    public TimeSpan Backoff(int failures) =>
        TimeSpan.FromSeconds(Math.Min(Math.Max(Options.MinTtlSeconds, Options.MaxTtlSeconds), Options.MinTtlSeconds * Math.Pow(2, Math.Min(failures - 1, 10))));

    public static string Url(string scheme, IPAddress address, int port, string basePath)
    {
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"{scheme}://{host}:{port}{basePath}");
    }
}

/// <summary><c>{"Source":"dns","Name":"orders.internal","Port":8080,"Scheme":"http","BasePath":"/api"}</c>: every A and AAAA address of the name.</summary>
internal sealed class DnsDiscoverySourceFactory(DnsLookup lookup, TimeProvider time, ILoggerFactory loggers) : IDiscoverySourceFactory
{
    public string Kind => DnsLookup.DnsKind;

    public IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors) =>
        Parse(specification, errors) is { } target
            ? new Source(poolName, target.Name, target.Port, target.Scheme, target.BasePath, lookup, time, loggers.CreateLogger<DnsDiscoverySourceFactory>())
            : null;

    /// <summary>The fields of a <c>dns</c> specification; null (with errors) when any is wrong.</summary>
    public static (string Name, int Port, string Scheme, string BasePath)? Parse(JsonElement specification, List<string> errors)
    {
        var before = errors.Count;
        var fields = new DiscoveryFields(DnsLookup.DnsKind, specification, errors, "Name", "Port", "Scheme", "BasePath");
        var name = fields.DnsName("Name");
        var port = fields.Number("Port", 1, 65535, required: true);
        var scheme = fields.Scheme();
        var basePath = fields.BasePath();
        return errors.Count > before || name is null || port is null ? null : (name, port.Value, scheme, basePath);
    }

    private sealed class Source(string pool, string name, int port, string scheme, string basePath, DnsLookup lookup, TimeProvider time, ILogger logger)
        : PollingDiscoverySource(pool, DnsLookup.DnsKind, time, logger)
    {
        protected override async Task<(IReadOnlyList<DiscoveredInstance> Instances, TimeSpan Next)> LookupAsync(CancellationToken cancellationToken)
        {
            var v4 = await lookup.QueryAsync(name, QueryType.A, cancellationToken);
            var v6 = await lookup.QueryAsync(name, QueryType.AAAA, cancellationToken);
            var instances = new List<DiscoveredInstance>();
            int? ttl = null;
            foreach (var record in v4?.Answers.ARecords() ?? [])
            {
                instances.Add(new DiscoveredInstance(DnsLookup.Url(scheme, record.Address, port, basePath)));
                ttl = Math.Min(ttl ?? int.MaxValue, record.TimeToLive);
            }

            foreach (var record in v6?.Answers.AaaaRecords() ?? [])
            {
                instances.Add(new DiscoveredInstance(DnsLookup.Url(scheme, record.Address, port, basePath)));
                ttl = Math.Min(ttl ?? int.MaxValue, record.TimeToLive);
            }

            return (instances, lookup.Clamp(ttl));
        }

        protected override TimeSpan RetryDelay(int failures) => lookup.Backoff(failures);
    }
}

/// <summary>
/// <c>{"Source":"srv","Name":"_http._tcp.orders.internal","Scheme":"http","BasePath":"/api"}</c>: every target at its
/// port, each address of each target one instance weighted by the record's weight (clamped to 1–1000) and carrying the
/// record's priority, so the pool prefers the lowest priority value and falls back to higher ones only when no
/// instance of a lower one may take a request (RFC 2782).
/// </summary>
internal sealed class SrvDiscoverySourceFactory(DnsLookup lookup, TimeProvider time, ILoggerFactory loggers) : IDiscoverySourceFactory
{
    private const int MaxWeight = 1000;

    public string Kind => DnsLookup.SrvKind;

    public IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors) =>
        Parse(specification, errors) is { } target
            ? new Source(poolName, target.Name, target.Scheme, target.BasePath, lookup, time, loggers.CreateLogger<SrvDiscoverySourceFactory>())
            : null;

    /// <summary>The fields of an <c>srv</c> specification; null (with errors) when any is wrong.</summary>
    public static (string Name, string Scheme, string BasePath)? Parse(JsonElement specification, List<string> errors)
    {
        var before = errors.Count;
        var fields = new DiscoveryFields(DnsLookup.SrvKind, specification, errors, "Name", "Scheme", "BasePath");
        var name = fields.DnsName("Name");
        var scheme = fields.Scheme();
        var basePath = fields.BasePath();
        return errors.Count > before || name is null ? null : (name, scheme, basePath);
    }

    private sealed class Source(string pool, string name, string scheme, string basePath, DnsLookup lookup, TimeProvider time, ILogger logger)
        : PollingDiscoverySource(pool, DnsLookup.SrvKind, time, logger)
    {
        protected override async Task<(IReadOnlyList<DiscoveredInstance> Instances, TimeSpan Next)> LookupAsync(CancellationToken cancellationToken)
        {
            var response = await lookup.QueryAsync(name, QueryType.SRV, cancellationToken);
            var records = response?.Answers.SrvRecords().ToList() ?? [];
            var instances = new List<DiscoveredInstance>();
            int? ttl = null;
            if (records.Count == 0)
            {
                return (instances, lookup.Clamp(null));
            }

            // Lowest priority first, so that an address two records name keeps the preferred priority.
            foreach (var record in records.OrderBy(static r => r.Priority))
            {
                ttl = Math.Min(ttl ?? int.MaxValue, record.TimeToLive);
                var target = record.Target.Value.TrimEnd('.');
                if (target.Length == 0)
                {
                    // Target "." (RFC 2782): the service is decidedly not available here. An answer, not a name to resolve.
                    continue;
                }

                var addresses = response!.Additionals.OfType<AddressRecord>().Where(a => string.Equals(a.DomainName.Value.TrimEnd('.'), target, StringComparison.OrdinalIgnoreCase)).ToList();
                if (addresses.Count == 0)
                {
                    var v4 = await lookup.QueryAsync(target, QueryType.A, cancellationToken);
                    var v6 = await lookup.QueryAsync(target, QueryType.AAAA, cancellationToken);
                    addresses = [.. v4?.Answers.OfType<AddressRecord>() ?? [], .. v6?.Answers.OfType<AddressRecord>() ?? []];
                }

                foreach (var address in addresses)
                {
                    ttl = Math.Min(ttl ?? int.MaxValue, address.TimeToLive);
                    instances.Add(new DiscoveredInstance(DnsLookup.Url(scheme, address.Address, record.Port, basePath), Math.Clamp((int)record.Weight, 1, MaxWeight), record.Priority));
                }
            }

            return (instances, lookup.Clamp(ttl));
        }

        protected override TimeSpan RetryDelay(int failures) => lookup.Backoff(failures);
    }
}
