using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace FuncGateway.Cli.Commands;

/// <summary>
/// <c>fgw pools list</c> and <c>fgw pools show NAME</c>: what one running gateway serves per pool, from its admin
/// API (<c>GET /_gateway/upstreams</c>): every instance, static or discovered, and each discovery source's state, last
/// refresh and last error. Discovered instances live in the gateway's memory, not in the tables, so these commands ask
/// a gateway (<c>--gateway</c> or <c>FGW_GATEWAY_URL</c>) with its admin key (<c>--admin-key</c> or
/// <c>FuncGateway__Admin__Key</c>).
/// </summary>
internal static class PoolsCommand
{
    public const string GatewayVariable = "FGW_GATEWAY_URL";
    public const string AdminKeyVariable = "FuncGateway__Admin__Key";

    private static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(CliContext context)
    {
        var gateway = new Option<string?>("--gateway") { Description = $"The gateway's base URL (default: ${GatewayVariable}).", HelpName = "URL", Recursive = true };
        var adminKey = new Option<string?>("--admin-key") { Description = $"The gateway's admin key (default: ${AdminKeyVariable}).", HelpName = "KEY", Recursive = true };
        var pools = new Command("pools", "Show what a running gateway serves per pool: static and discovered instances, discovery sources.") { gateway, adminKey };

        var list = new Command("list", "One line per pool: source, state, instance counts, last refresh, last error.");
        list.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var upstreams = await ReadAsync(context, parseResult.GetValue(gateway), parseResult.GetValue(adminKey), cancellationToken);
            List<string[]> lines = [["POOL", "SOURCE", "STATE", "INSTANCES", "DISCOVERED", "LAST REFRESH", "LAST ERROR"]];
            foreach (var pool in upstreams)
            {
                var discovery = Discovery(pool);
                lines.Add(
                [
                    pool.GetProperty("name").GetString()!,
                    discovery is { } d ? d.GetProperty("source").GetString()! : "static",
                    discovery is { } s ? s.GetProperty("state").GetString()! : "-",
                    pool.GetProperty("instances").GetArrayLength().ToString(CultureInfo.InvariantCulture),
                    discovery is { } c ? c.GetProperty("instances").GetArrayLength().ToString(CultureInfo.InvariantCulture) : "-",
                    discovery is { } r ? Time(r.GetProperty("lastRefreshedAt")) : "-",
                    discovery is { } e && e.GetProperty("lastError").GetString() is { } error ? error : "",
                ]);
            }

            ListCommand.WriteTable(context.Out, lines);
            return ExitCodes.Success;
        }, cancellationToken));

        var name = new Argument<string>("NAME") { Description = "The pool's name." };
        var show = new Command("show", "One pool: every instance (static or discovered) and its discovery source.") { name };
        show.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var wanted = parseResult.GetValue(name)!;
            var upstreams = await ReadAsync(context, parseResult.GetValue(gateway), parseResult.GetValue(adminKey), cancellationToken);
            var pool = upstreams.FirstOrDefault(p => p.GetProperty("name").GetString() == wanted);
            if (pool.ValueKind != JsonValueKind.Object)
            {
                throw new CliException(ExitCodes.InvalidInput, $"The gateway serves no pool '{RegistryFormat.Printable(wanted)}' (a rejected pool is listed at /_gateway/rejected and by 'fgw upstreams list').");
            }

            Show(context.Out, pool);
            return ExitCodes.Success;
        }, cancellationToken));

        pools.Subcommands.Add(list);
        pools.Subcommands.Add(show);
        return pools;
    }

    private static void Show(TextWriter output, JsonElement pool)
    {
        var discovery = Discovery(pool);
        var discovered = discovery is { } d
            ? d.GetProperty("instances").EnumerateArray().Select(static i => i.GetProperty("url").GetString()!).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];
        output.WriteLine($"Pool:           {pool.GetProperty("name").GetString()}");
        output.WriteLine($"Load balancing: {pool.GetProperty("loadBalancing").GetString()}");
        if (discovery is { } source)
        {
            output.WriteLine($"Source:         {source.GetProperty("source").GetString()} {JsonSerializer.Serialize(source.GetProperty("specification"))}");
            output.WriteLine($"State:          {source.GetProperty("state").GetString()}");
            output.WriteLine($"Last refresh:   {Time(source.GetProperty("lastRefreshedAt"))}");
            output.WriteLine($"Last change:    {Time(source.GetProperty("lastChangedAt"))}");
            if (source.GetProperty("lastError").GetString() is { } error)
            {
                output.WriteLine($"Last error:     {RegistryFormat.Printable(error)} (at {Time(source.GetProperty("lastErrorAt"))})");
            }
        }
        else
        {
            output.WriteLine("Source:         static (no Discovery)");
        }

        List<string[]> lines = [["INSTANCE", "WEIGHT", "ORIGIN"]];
        foreach (var instance in pool.GetProperty("instances").EnumerateArray())
        {
            var url = instance.GetProperty("url").GetString()!;
            lines.Add([url, instance.GetProperty("weight").GetInt32().ToString(CultureInfo.InvariantCulture), discovered.Contains(url) ? "discovered" : "static"]);
        }

        foreach (var skipped in discovery?.GetProperty("skipped").EnumerateArray() ?? default)
        {
            lines.Add([skipped.GetProperty("url").GetString()!, "-", "skipped: " + RegistryFormat.Printable(skipped.GetProperty("reason").GetString()!)]);
        }

        output.WriteLine();
        ListCommand.WriteTable(output, lines);
    }

    private static JsonElement? Discovery(JsonElement pool) =>
        pool.TryGetProperty("discovery", out var discovery) && discovery.ValueKind == JsonValueKind.Object ? discovery : null;

    private static string Time(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetDateTimeOffset().ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";

    private static async Task<List<JsonElement>> ReadAsync(CliContext context, string? gateway, string? adminKey, CancellationToken cancellationToken)
    {
        gateway ??= context.Variable(GatewayVariable);
        adminKey ??= context.Variable(AdminKeyVariable);
        if (string.IsNullOrWhiteSpace(gateway) || !Uri.TryCreate(gateway, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"Name the gateway with --gateway URL or {GatewayVariable} (an absolute http(s) URL).");
        }

        if (string.IsNullOrEmpty(adminKey))
        {
            throw new CliException(ExitCodes.Usage, $"Give the gateway's admin key with --admin-key or {AdminKeyVariable}.");
        }

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = NetworkTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/_gateway/upstreams"));
        request.Headers.Add("X-Admin-Key", adminKey);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException(ExitCodes.StorageFailure, $"The gateway answered {(int)response.StatusCode} to GET /_gateway/upstreams{(response.StatusCode == System.Net.HttpStatusCode.Unauthorized ? " (wrong admin key)" : "")}.");
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return [.. body.GetProperty("upstreams").EnumerateArray()];
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.StorageFailure, $"The gateway at {baseUri} could not be read: {ex.Message}");
        }
    }
}
