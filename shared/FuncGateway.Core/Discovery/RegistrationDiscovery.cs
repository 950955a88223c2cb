using System.Text.Json;
using Azure.Data.Tables;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// <c>{"Source":"registration"}</c>: the instances that registered themselves under the pool's name in
/// <c>{TablePrefix}Instances</c> (through <c>PUT /_gateway/pools/{pool}/instances/{id}</c> or by writing the row)
/// and whose lease has not lapsed; read every <c>FuncGateway:Discovery:Registration:RefreshSeconds</c>.
/// </summary>
internal sealed class RegistrationDiscoverySourceFactory(RegistrationTable table, IOptions<DiscoveryOptions> options, TimeProvider time, ILoggerFactory loggers)
    : IDiscoverySourceFactory
{
    public const string RegistrationKind = "registration";

    public string Kind => RegistrationKind;

    public IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors) =>
        IsValid(specification, errors)
            ? new Source(poolName, table, TimeSpan.FromSeconds(options.Value.Registration.RefreshSeconds), time, loggers.CreateLogger<RegistrationDiscoverySourceFactory>())
            : null;

    /// <summary>A <c>registration</c> specification has no fields but <c>Source</c>.</summary>
    public static bool IsValid(JsonElement specification, List<string> errors)
    {
        var before = errors.Count;
        _ = new DiscoveryFields(RegistrationKind, specification, errors);
        return errors.Count == before;
    }

    /// <summary>The ids a registration source last read with a live lease (the registration API's cheap "renewal?" check).</summary>
    internal interface ILiveRegistrations
    {
        bool IsLive(string id);
    }

    private sealed class Source(string pool, RegistrationTable table, TimeSpan interval, TimeProvider time, ILogger logger)
        : PollingDiscoverySource(pool, RegistrationKind, time, logger), ILiveRegistrations
    {
        private volatile HashSet<string> _live = new(StringComparer.Ordinal);

        public bool IsLive(string id) => _live.Contains(id);

        // Rows logged as skipped, with the reason, so a bad row is logged once and not at every read.
        private readonly Dictionary<string, string> _skipped = new(StringComparer.Ordinal);

        protected override async Task<(IReadOnlyList<DiscoveredInstance> Instances, TimeSpan Next)> LookupAsync(CancellationToken cancellationToken)
        {
            var rows = await table.ReadPoolAsync(Pool, cancellationToken);
            var now = Time.GetUtcNow();
            var instances = new List<DiscoveredInstance>(rows.Count);
            var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
            var live = new HashSet<string>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                if (Read(row, now, out var instance) is { } reason)
                {
                    skipped[row.RowKey] = reason;
                }
                else if (instance is not null)
                {
                    instances.Add(instance);
                    live.Add(row.RowKey);
                }
            }

            _live = live;

            foreach (var (id, reason) in skipped)
            {
                if (!_skipped.TryGetValue(id, out var before) || before != reason)
                {
                    DiscoveryLog.RegistrationRowSkipped(Logger, Pool, table.Name, PrintableText.Of(id), reason);
                }
            }

            _skipped.Clear();
            foreach (var pair in skipped)
            {
                _skipped.Add(pair.Key, pair.Value);
            }

            return (instances, interval);
        }

        protected override TimeSpan RetryDelay(int failures) => interval;

        /// <summary>The row's instance (null when its lease lapsed), or the reason the row is unusable.</summary>
        private static string? Read(TableEntity row, DateTimeOffset now, out DiscoveredInstance? instance)
        {
            instance = null;
            // A value of another type is named as such: "missing" would send the operator looking for a property that is there.
            if (!row.TryGetValue(RegistrationTable.UrlColumn, out var u) || u is null or "")
            {
                return $"{RegistrationTable.UrlColumn} is missing.";
            }

            if (u is not string url)
            {
                return $"{RegistrationTable.UrlColumn} must be a string, not {RegistryEntityReader.TypeName(u)}.";
            }

            var weight = 1;
            if (row.TryGetValue(RegistrationTable.WeightColumn, out var w) && w is not null)
            {
                if (w is not int number || number is < 1 or > 1000)
                {
                    return $"{RegistrationTable.WeightColumn} must be an Int32 from 1 to 1000.";
                }

                weight = number;
            }

            if (!row.TryGetValue(RegistrationTable.LeaseColumn, out var l) || l is null)
            {
                return $"{RegistrationTable.LeaseColumn} is missing.";
            }

            if (l is not (DateTimeOffset or DateTime))
            {
                return $"{RegistrationTable.LeaseColumn} must be a DateTime, not {RegistryEntityReader.TypeName(l)}.";
            }

            var lease = l is DateTimeOffset offset ? offset : new DateTimeOffset(DateTime.SpecifyKind((DateTime)l, DateTimeKind.Utc));
            if (lease > now)
            {
                instance = new DiscoveredInstance(url, weight);
            }

            return null;
        }
    }
}
