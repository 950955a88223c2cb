using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Storage;

namespace FuncGateway.Cli.Commands;

/// <summary>
/// <c>fgw keys create|list|revoke|rotate</c>: API keys in <c>{TablePrefix}ApiKeys</c>. A key is printed once, when
/// it is created (or rotated); only its SHA-256 is stored, and nothing ever prints it again.
/// </summary>
internal static partial class KeysCommand
{
    private static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] ListHeader = ["KEY-ID", "CONSUMER", "NAME", "TIER", "SCOPES", "STATUS", "EXPIRES", "CREATED"];

    public static Command Create(CliContext context)
    {
        var keys = new Command("keys", "Create, list, revoke and rotate API keys (table PREFIXApiKeys).");
        keys.Subcommands.Add(CreateCreate(context));
        keys.Subcommands.Add(CreateList(context));
        keys.Subcommands.Add(CreateRevoke(context));
        keys.Subcommands.Add(CreateRotate(context));
        return keys;
    }

    private static Command CreateCreate(CliContext context)
    {
        var consumer = new Option<string>("--consumer") { Description = "The consumer the key belongs to (sent upstream as X-Consumer-Id).", Required = true, HelpName = "ID" };
        var name = new Option<string?>("--name") { Description = "A label for people.", HelpName = "NAME" };
        var tier = new Option<string?>("--tier") { Description = "The consumer's tier (X-Consumer-Tier, for rate limits).", HelpName = "TIER" };
        var scopes = new Option<string?>("--scopes") { Description = "Comma-separated scopes granted to the key.", HelpName = "SCOPES" };
        var expires = new Option<string?>("--expires") { Description = "When the key stops working: a duration (90d, 12h, 30m) or an ISO 8601 instant.", HelpName = "WHEN" };
        var command = new Command("create", "Create a key and print it once.") { consumer, name, tier, scopes, expires };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var consumerId = parseResult.GetValue(consumer)!.Trim();
            if (consumerId.Length == 0)
            {
                throw new CliException(ExitCodes.Usage, "--consumer may not be empty.");
            }

            var now = TimeProvider.System.GetUtcNow();
            var table = await OpenAsync(context, parseResult, create: true, cancellationToken);
            var (key, record) = NewKey(consumerId, Trim(parseResult.GetValue(name)), Trim(parseResult.GetValue(tier)),
                Split(parseResult.GetValue(scopes)), ParseWhen(parseResult.GetValue(expires), now), now);
            await WriteAsync(() => table.AddEntityAsync(ApiKeyFormat.ToEntity(record), cancellationToken));
            PrintNewKey(context, record, key);
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command CreateList(CliContext context)
    {
        var consumer = new Option<string?>("--consumer") { Description = "Only this consumer's keys.", HelpName = "ID" };
        var command = new Command("list", "List keys (ids and settings; never the keys).") { consumer };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var table = await OpenAsync(context, parseResult, create: false, cancellationToken);
            var only = parseResult.GetValue(consumer);
            var now = TimeProvider.System.GetUtcNow();
            var records = (await ReadAllAsync(table, cancellationToken, warnings: context.Error)).Select(static r => r.Record)
                .Where(r => only is null || string.Equals(r.ConsumerId, only, StringComparison.Ordinal))
                .OrderBy(r => r.ConsumerId, StringComparer.Ordinal).ThenBy(r => r.CreatedAt).ToList();
            if (records.Count == 0)
            {
                context.Out.WriteLine($"No API keys in {table.Name}{(only is null ? "" : $" for consumer '{only}'")}.");
                return ExitCodes.Success;
            }

            var lines = new List<string[]> { ListHeader };
            foreach (var r in records)
            {
                var status = !r.Enabled ? "revoked" : r.ExpiresAt <= now ? "expired" : "active";
                lines.Add([r.KeyId, r.ConsumerId, r.Name ?? "", r.Tier ?? "", string.Join(',', r.Scopes), status, Time(r.ExpiresAt), Time(r.CreatedAt)]);
            }

            var widths = Enumerable.Range(0, lines[0].Length).Select(i => lines.Max(l => RegistryFormat.Printable(l[i]).Length)).ToArray();
            foreach (var line in lines)
            {
                context.Out.WriteLine(string.Join("  ", line.Select((cell, i) => RegistryFormat.Printable(cell).PadRight(widths[i]))).TrimEnd());
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command CreateRevoke(CliContext context)
    {
        var keyId = new Argument<string>("KEY-ID") { Description = "The key's id, as 'fgw keys list' shows it." };
        var force = ForceOption();
        var command = new Command("revoke", "Revoke a key (kept, disabled). The gateway refuses it within FuncGateway:Auth:ApiKeys:CacheSeconds.") { keyId, force };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var table = await OpenAsync(context, parseResult, create: false, cancellationToken);
            var (record, etag) = await FindAsync(table, parseResult.GetValue(keyId)!, cancellationToken);
            await context.CheckpointAsync(CliCheckpoint.BeforeWrite);
            if (!await ReplaceAsync(table, record with { Enabled = false }, etag, parseResult.GetValue(force), cancellationToken))
            {
                throw Changed(record, "Nothing was written.");
            }

            context.Out.WriteLine($"Revoked {record.KeyId} (consumer '{RegistryFormat.Printable(record.ConsumerId)}'). Gateways refuse it within their API key cache time (FuncGateway:Auth:ApiKeys:CacheSeconds, default 30 s).");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command CreateRotate(CliContext context)
    {
        var keyId = new Argument<string>("KEY-ID") { Description = "The key to replace." };
        var grace = new Option<string?>("--grace") { Description = "How long the old key keeps working: a duration (default 1h; 0 revokes it now).", HelpName = "DURATION" };
        var force = ForceOption();
        var command = new Command("rotate", "Create a new key with the same consumer, name, tier, scopes and expiry; the old one expires after --grace.") { keyId, grace, force };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var now = TimeProvider.System.GetUtcNow();
            var graceText = parseResult.GetValue(grace) ?? "1h";
            var graceTime = graceText.Trim() == "0" ? TimeSpan.Zero : ParseDuration(graceText) ?? throw new CliException(ExitCodes.Usage, $"--grace '{graceText}' is not a duration such as 1h, 30m, 7d or 0.");
            var table = await OpenAsync(context, parseResult, create: false, cancellationToken);
            var (old, etag) = await FindAsync(table, parseResult.GetValue(keyId)!, cancellationToken);
            var (key, record) = NewKey(old.ConsumerId, old.Name, old.Tier, old.Scopes, old.ExpiresAt, now);
            await context.CheckpointAsync(CliCheckpoint.BeforeWrite);
            await WriteAsync(() => table.AddEntityAsync(ApiKeyFormat.ToEntity(record), cancellationToken));
            var retired = graceTime == TimeSpan.Zero
                ? old with { Enabled = false }
                : old with { ExpiresAt = old.ExpiresAt is { } e && e < now + graceTime ? e : now + graceTime };
            if (!await ReplaceAsync(table, retired, etag, parseResult.GetValue(force), cancellationToken))
            {
                // The new key was never shown to anyone: taking it back leaves the table as it was before the command.
                var entity = ApiKeyFormat.ToEntity(record);
                await WriteAsync(() => table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken));
                throw Changed(old, "Nothing was written (the new key was removed again).");
            }

            PrintNewKey(context, record, key);
            context.Error.WriteLine(graceTime == TimeSpan.Zero
                ? $"The old key {old.KeyId} is revoked."
                : $"The old key {old.KeyId} keeps working until {Time(retired.ExpiresAt)}.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static (string Key, ApiKeyRecord Record) NewKey(string consumer, string? name, string? tier, IReadOnlyList<string> scopes, DateTimeOffset? expires, DateTimeOffset now)
    {
        var (key, id) = ApiKeyFormat.Generate();
        return (key, new ApiKeyRecord(ApiKeyFormat.Hash(key), id, consumer, name, tier, scopes, Enabled: true, expires, now));
    }

    private static void PrintNewKey(CliContext context, ApiKeyRecord record, string key)
    {
        context.Out.WriteLine($"key-id: {record.KeyId}");
        context.Out.WriteLine($"consumer: {record.ConsumerId}");
        context.Out.WriteLine($"key: {key}");
        context.Error.WriteLine("Store the key now: it is shown this once; only its hash is kept.");
    }

    private static async Task<TableClient> OpenAsync(CliContext context, ParseResult parseResult, bool create, CancellationToken cancellationToken)
    {
        var service = context.OpenTableService(parseResult, NetworkTimeout);
        var table = service.GetTableClient(ApiKeyFormat.TableName(context.ResolveStorage(parseResult).Options.TablePrefix));
        if (create)
        {
            await WriteAsync(() => table.CreateIfNotExistsAsync(cancellationToken));
        }

        return table;
    }

    private static async Task<List<(ApiKeyRecord Record, string ETag)>> ReadAllAsync(TableClient table, CancellationToken cancellationToken, string? filter = null, TextWriter? warnings = null)
    {
        var result = new List<(ApiKeyRecord, string)>();
        try
        {
            await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (ApiKeyFormat.Read(entity, out var problem) is { } record)
                {
                    result.Add((record, entity.ETag.ToString()));
                }
                else
                {
                    // The gateway refuses such a key (and logs why, event 4021); listing must not hide the row either.
                    var keyId = entity.TryGetValue("KeyId", out var id) && id is string text ? RegistryFormat.Printable(text) : "(no KeyId)";
                    warnings?.WriteLine($"warning: key {keyId} in {table.Name} is not a usable key record and authenticates no one: {problem}");
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No table yet: no keys.
        }
        catch (RequestFailedException ex)
        {
            throw new RegistryStoreException($"Could not read {table.Name}: storage answered {ex.Status} {ex.ErrorCode}.", ex);
        }

        return result;
    }

    private static async Task<(ApiKeyRecord Record, string ETag)> FindAsync(TableClient table, string keyId, CancellationToken cancellationToken)
    {
        if (!KeyIdPattern().IsMatch(keyId))
        {
            throw new CliException(ExitCodes.Usage, $"'{RegistryFormat.Printable(keyId)}' is not a key id (k- and 12 hex digits, as 'fgw keys list' shows).");
        }

        var found = await ReadAllAsync(table, cancellationToken, TableClient.CreateQueryFilter($"KeyId eq {keyId}"));
        return found.Count switch
        {
            1 => found[0],
            0 => throw new CliException(ExitCodes.InvalidInput, $"No API key with id {keyId} in {table.Name}."),
            _ => throw new CliException(ExitCodes.InvalidInput, $"Several rows carry key id {keyId}; fix {table.Name} by hand."),
        };
    }

    private static Option<bool> ForceOption() => new("--force")
    {
        Description = "Write even when the key's row changed in storage after it was read (default: stop with exit code 4).",
    };

    /// <summary>
    /// Replaces a key's row if it still has the ETag it was read with (<c>If-Match</c>); false when it changed or went
    /// away since. With <paramref name="force"/>, replaces it whatever it holds.
    /// </summary>
    private static async Task<bool> ReplaceAsync(TableClient table, ApiKeyRecord record, string etag, bool force, CancellationToken cancellationToken)
    {
        var entity = ApiKeyFormat.ToEntity(record);
        try
        {
            if (force)
            {
                await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
            }
            else
            {
                await table.UpdateEntityAsync(entity, new ETag(etag), TableUpdateMode.Replace, cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException ex) when (!force && ex.Status is 404 or 412)
        {
            return false;
        }
        catch (RequestFailedException ex)
        {
            throw new RegistryStoreException($"Storage refused the write: {ex.Status} {ex.ErrorCode}.", ex);
        }
    }

    private static CliException Changed(ApiKeyRecord record, string outcome) => new(
        ExitCodes.Conflict,
        $"API key {record.KeyId} (consumer '{RegistryFormat.Printable(record.ConsumerId)}') changed in storage after fgw read it. {outcome}\n"
        + "Run the command again to act on the key as it is now, or add --force to overwrite it.");

    private static async Task WriteAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (RequestFailedException ex)
        {
            throw new RegistryStoreException($"Storage refused the write: {ex.Status} {ex.ErrorCode}.", ex);
        }
    }

    private static DateTimeOffset? ParseWhen(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (ParseDuration(text) is { } duration)
        {
            return now + duration;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) && instant > now)
        {
            return instant.ToUniversalTime();
        }

        throw new CliException(ExitCodes.Usage, $"--expires '{RegistryFormat.Printable(text)}' is neither a duration (90d, 12h, 30m) nor a future ISO 8601 instant.");
    }

    private static TimeSpan? ParseDuration(string text)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success)
        {
            return null;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "d" => TimeSpan.FromDays(value),
            "h" => TimeSpan.FromHours(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromSeconds(value),
        };
    }

    private static string? Trim(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string[] Split(string? value) => (value ?? "").Split([',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string Time(DateTimeOffset? value) => value?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    [GeneratedRegex("^k-[0-9a-f]{12}$")]
    private static partial Regex KeyIdPattern();

    [GeneratedRegex("^([0-9]+(?:\\.[0-9]+)?)(d|h|m|s)$")]
    private static partial Regex DurationPattern();
}
