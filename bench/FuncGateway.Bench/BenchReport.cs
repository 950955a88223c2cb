using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FuncGateway.Bench;

/// <summary>
/// Turns the raw rounds that bench/run.sh recorded (one JSON line per contender per round) into the table it prints
/// and the JSON file it keeps: medians across rounds, the ratios issue #2 asks for, and the raw data.
/// </summary>
internal static class BenchReport
{
    public const string Direct = "direct";
    public const string Yarp = "yarp";
    public const string Gateway = "funcgateway";
    public const string GatewayFast = "funcgateway-fast";
    public const string GatewayStrict = "funcgateway-strict";
    public const string GatewayJwt = "funcgateway-jwt";
    public const string GatewayApiKey = "funcgateway-apikey";
    public const string GatewayFull = "funcgateway-full";
    public const string GatewayPlain = "funcgateway-tx-plain";
    public const string GatewayTransforms = "funcgateway-tx-headers";
    public const string GatewayCachePlain = "funcgateway-cache-plain";
    public const string GatewayCacheHit = "funcgateway-cache-hit";
    public const string GatewayPost = "funcgateway-val-plain";
    public const string GatewaySchema = "funcgateway-val-schema";
    public const string GatewayTelemetry = "funcgateway-telemetry";
    public const string GatewayB = "funcgateway-b";
    public const string GatewayBodyPlain = "funcgateway-bt-plain";
    public const string GatewayBodyMapped = "funcgateway-bt-mapped";

    /// <summary>Issue #2: FuncGateway without policies within 90% of bare YARP's throughput with 1,000 routes.</summary>
    public const double TargetThroughputRatio = 0.90;

    private static readonly string[] BaseContenders = [Direct, Yarp, Gateway];

    /// <summary>With --rate-limits: the same gateway and route shape with a fast-mode and a strict-mode limit.</summary>
    private static readonly string[] RateLimitContenders = [GatewayFast, GatewayStrict];

    /// <summary>With --policies (issue #11): a JWT route, an API key route and the full policy route.</summary>
    private static readonly string[] PolicyContenders = [GatewayJwt, GatewayApiKey, GatewayFull];

    /// <summary>With --transforms: the same gateway and route shape without and with header-only transforms.</summary>
    private static readonly string[] TransformContenders = [GatewayPlain, GatewayTransforms];

    /// <summary>With --cache: the same gateway and route shape proxied and answered from the cache.</summary>
    private static readonly string[] CacheContenders = [GatewayCachePlain, GatewayCacheHit];

    /// <summary>With --validation: the same POST route with a 4 KiB JSON body, without and with a schema Validation.</summary>
    private static readonly string[] ValidationContenders = [GatewayPost, GatewaySchema];

    /// <summary>With --body-transforms: the same POST route with a 4 KiB JSON body, without and with a field mapping.</summary>
    private static readonly string[] BodyTransformContenders = [GatewayBodyPlain, GatewayBodyMapped];

    /// <summary>With --telemetry: a second gateway process, the same table and route, with telemetry on.</summary>
    private static readonly string[] TelemetryContenders = [GatewayTelemetry];

    /// <summary>With --compare-dll: a second gateway process from another build, the same table and route.</summary>
    private static readonly string[] CompareContenders = [GatewayB];

    private static string[] Contenders = BaseContenders;

    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        [Direct] = "direct (upstream)",
        [Yarp] = "bare YARP",
        [Gateway] = "FuncGateway",
        [GatewayFast] = "FuncGateway + fast limit",
        [GatewayStrict] = "FuncGateway + strict limit",
        [GatewayJwt] = "FuncGateway + JWT (RS256)",
        [GatewayApiKey] = "FuncGateway + API key",
        [GatewayFull] = "FuncGateway + all policies",
        [GatewayPlain] = "FuncGateway, plain route",
        [GatewayTransforms] = "FuncGateway + header transforms",
        [GatewayCachePlain] = "FuncGateway, proxied route",
        [GatewayCacheHit] = "FuncGateway, cache hit",
        [GatewayPost] = "FuncGateway, plain POST route",
        [GatewaySchema] = "FuncGateway + schema Validation",
        [GatewayTelemetry] = "FuncGateway + telemetry",
        [GatewayB] = "FuncGateway (B)",
        [GatewayBodyPlain] = "FuncGateway, plain POST route",
        [GatewayBodyMapped] = "FuncGateway + body field mapping",
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(CommandLine options)
    {
        var input = options.Required("input");
        var output = options.Required("output");
        var rounds = ReadRounds(input);
        Contenders = [.. BaseContenders, .. RateLimitContenders.Concat(PolicyContenders).Concat(TransformContenders).Concat(CacheContenders).Concat(ValidationContenders).Concat(BodyTransformContenders).Concat(TelemetryContenders).Concat(CompareContenders).Where(c => rounds.Any(r => r.Contender == c))];

        var summary = new JsonObject();
        var medians = new Dictionary<string, Medians>(StringComparer.Ordinal);
        var invalid = new List<string>();
        foreach (var contender in Contenders)
        {
            var runs = rounds.Where(r => r.Contender == contender).ToList();
            if (runs.Count == 0)
            {
                throw new UsageException($"{input} has no rounds for '{contender}'.");
            }

            var m = new Medians(
                runs.Count,
                Median(runs.Select(r => r.Rps)) ?? double.NaN,
                Median(runs.Select(r => r.P50Us)) ?? double.NaN,
                Median(runs.Select(r => r.P99Us)) ?? double.NaN,
                Median(runs.Select(r => r.ProxyCpuUsPerRequest)),
                Median(runs.Select(r => r.UpstreamCpuUsPerRequest)),
                Median(runs.Select(r => r.MachineBusy)),
                Median(runs.Select(r => r.TableOpsPerRequest)));
            medians[contender] = m;
            var errors = runs.Sum(r => r.Errors);
            var badStatus = runs.Sum(r => r.BadStatus);
            if (errors > 0 || badStatus > 0)
            {
                invalid.Add($"{Labels[contender]}: {errors} transport errors, {badStatus} bad statuses");
            }

            summary[contender] = new JsonObject
            {
                ["rounds"] = m.Rounds,
                ["requests_per_second_median"] = Round(m.Rps, 1),
                ["p50_ms_median"] = Round(m.P50Us / 1000, 3),
                ["p99_ms_median"] = Round(m.P99Us / 1000, 3),
                ["proxy_cpu_us_per_request_median"] = m.ProxyCpuUs is { } p ? Round(p, 1) : null,
                ["upstream_cpu_us_per_request_median"] = m.UpstreamCpuUs is { } u ? Round(u, 1) : null,
                ["machine_busy_median"] = m.MachineBusy is { } b ? Round(b, 3) : null,
                ["table_ops_per_request_median"] = m.TableOpsPerRequest is { } t ? Round(t, 5) : null,
                ["cpu_seconds_median"] = CpuMedians(runs),
                ["requests_per_second_by_round"] = new JsonArray([.. runs.Select(r => (JsonNode?)Round(r.Rps, 1))]),
                ["errors"] = errors,
                ["bad_status"] = badStatus,
            };
        }

        var gateway = medians[Gateway];
        var yarp = medians[Yarp];
        var direct = medians[Direct];
        var paired = PairedRatios(rounds, Gateway, Yarp);
        var ratios = new JsonObject
        {
            ["funcgateway_over_yarp_throughput"] = Round(gateway.Rps / yarp.Rps, 3),
            ["funcgateway_over_yarp_p99"] = Round(gateway.P99Us / yarp.P99Us, 3),
            ["funcgateway_over_yarp_throughput_paired_median"] = Round(Median(paired) ?? double.NaN, 3),
            ["funcgateway_over_yarp_throughput_by_round"] = new JsonArray([.. paired.Select(p => (JsonNode?)Round(p, 3))]),
            ["funcgateway_over_yarp_proxy_cpu_per_request"] = gateway.ProxyCpuUs / yarp.ProxyCpuUs is { } cpuRatio ? Round(cpuRatio, 3) : null,
            ["yarp_over_direct_throughput"] = Round(yarp.Rps / direct.Rps, 3),
            ["yarp_over_direct_p99"] = Round(yarp.P99Us / direct.P99Us, 3),
        };
        foreach (var (contender, baseline, key) in new[]
                 {
                     (GatewayFast, Gateway, "fast_limit_over_funcgateway"), (GatewayStrict, Gateway, "strict_limit_over_funcgateway"),
                     (GatewayTransforms, GatewayPlain, "header_transforms_over_plain_route"),
                     (GatewayCacheHit, GatewayCachePlain, "cache_hit_over_proxied_route"), (GatewayCacheHit, Direct, "cache_hit_over_direct"),
                     (GatewaySchema, GatewayPost, "schema_validation_over_plain_post"),
                     (GatewayBodyMapped, GatewayBodyPlain, "body_mapping_over_plain_post"),
                     (GatewayTelemetry, Gateway, "telemetry_over_funcgateway"),
                     (GatewayB, Gateway, "b_over_funcgateway"),
                 })
        {
            if (medians.TryGetValue(contender, out var variant) && medians.TryGetValue(baseline, out var reference))
            {
                var pairedVariant = PairedRatios(rounds, contender, baseline);
                ratios[$"{key}_throughput"] = Round(variant.Rps / reference.Rps, 3);
                ratios[$"{key}_throughput_paired_median"] = Round(Median(pairedVariant) ?? double.NaN, 3);
                ratios[$"{key}_proxy_cpu_per_request"] = variant.ProxyCpuUs / reference.ProxyCpuUs is { } r ? Round(r, 3) : null;
                ratios[$"{key}_p99"] = Round(variant.P99Us / reference.P99Us, 3);
            }
        }

        foreach (var contender in PolicyContenders.Prepend(Gateway))
        {
            if (medians.TryGetValue(contender, out var m))
            {
                ratios[$"{contender}_over_yarp_throughput"] = Round(m.Rps / yarp.Rps, 3);
                ratios[$"{contender}_over_yarp_throughput_paired_median"] = Round(Median(PairedRatios(rounds, contender, Yarp)) ?? double.NaN, 3);
                ratios[$"{contender}_over_yarp_proxy_cpu_per_request"] = m.ProxyCpuUs / yarp.ProxyCpuUs is { } r ? Round(r, 3) : null;
                ratios[$"{contender}_over_yarp_p99"] = Round(m.P99Us / yarp.P99Us, 3);
            }
        }

        var throughputRatio = gateway.Rps / yarp.Rps;
        var met = throughputRatio >= TargetThroughputRatio;

        var document = new JsonObject
        {
            ["timestamp"] = TimeProvider.System.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            ["command"] = options.Optional("command"),
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["os"] = RuntimeInformation.OSDescription,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            },
            ["options"] = options.Optional("options-json") is { } o ? JsonNode.Parse(o) : null,
            ["summary"] = summary,
            ["ratios"] = ratios,
            ["target"] = new JsonObject
            {
                ["funcgateway_over_yarp_throughput_at_least"] = TargetThroughputRatio,
                ["met"] = met,
            },
            ["valid"] = invalid.Count == 0,
            ["invalid_reasons"] = new JsonArray([.. invalid.Select(i => (JsonNode?)i)]),
            ["raw"] = new JsonArray([.. rounds.Select(r => r.Node.DeepClone())]),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, document.ToJsonString(Indented) + "\n");

        Console.WriteLine(Table(medians));
        Console.WriteLine();
        Console.WriteLine(CpuTable(summary));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FuncGateway / bare YARP   throughput {throughputRatio:F3}  (target ≥ {TargetThroughputRatio:F2}: {(met ? "met" : "NOT met")})   p99 {gateway.P99Us / yarp.P99Us:F3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  same-round ratios: {string.Join(" ", paired.Select(p => p.ToString("F3", CultureInfo.InvariantCulture)))}  (median {Median(paired):F3})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  proxy CPU per request: {Format(gateway.ProxyCpuUs / yarp.ProxyCpuUs, "F3")} × bare YARP's (less disturbed by other load than req/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bare YARP / direct        throughput {yarp.Rps / direct.Rps:F3}   p99 {yarp.P99Us / direct.P99Us:F3}"));
        if (medians.ContainsKey(GatewayFast) || medians.ContainsKey(GatewayStrict))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, Gateway, [GatewayFast, GatewayStrict],
                "rate limits: the same gateway and route shape with a limit that is never reached; ratios over FuncGateway without one",
                "  (table ops/req include the registry poll, a few operations every 5 s; the strict limit's req/s is its ceiling on\n"
                + "   one counter row with this many connections; the counting proxy's CPU shows under \"other\")"));
        }

        if (PolicyContenders.Any(medians.ContainsKey))
        {
            Console.WriteLine();
            Console.WriteLine(PolicyTable(rounds, medians));
        }

        if (medians.ContainsKey(GatewayTransforms))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, GatewayPlain, [GatewayTransforms],
                "transforms: the same gateway and route shape with header-only Transforms (6 items); ratios over the plain route",
                "  (goal of issue #13: throughput within 3% of the plain route, i.e. ≥ 0.970; read the same-round ratio and CPU per\n"
                + "   request together, a shared machine moves req/s by more than that between runs)"));
        }

        if (medians.TryGetValue(GatewayCacheHit, out var hit))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, GatewayCachePlain, [GatewayCacheHit],
                "cache: the same gateway and route shape proxied and answered from the cache; ratios over the proxied route",
                $"  (cache hit / direct upstream: throughput {hit.Rps / direct.Rps:F3}; the upstream answers 2 bytes, so a\n"
                + "   hit saves the upstream exchange and little else)"));
        }

        if (medians.ContainsKey(GatewaySchema))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, GatewayPost, [GatewaySchema],
                "validation: the same POST route and 4 KiB JSON body (bench/validation-body.json) with a JSON-schema Validation; ratios over the plain POST route",
                "  (the validated route buffers, parses and checks each body before forwarding it; read the same-round ratio and CPU\n"
                + "   per request together, a shared machine moves req/s by more than the difference between runs)"));
        }

        if (medians.ContainsKey(GatewayBodyMapped))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, GatewayBodyPlain, [GatewayBodyMapped],
                "body transforms: the same POST route and 4 KiB JSON body (bench/validation-body.json) with a field mapping (move, defaults, removals); ratios over the plain POST route",
                "  (the mapped route buffers, parses, rewrites and re-serializes each body before forwarding it; read the same-round\n"
                + "   ratio and CPU per request together)"));
        }

        if (medians.ContainsKey(GatewayTelemetry))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, Gateway, [GatewayTelemetry],
                "telemetry: a second FuncGateway process on the same table with telemetry on (OTLP to a local sink); ratios over FuncGateway with it off",
                "  (the telemetry gateway's exporters run in its own process, so their CPU is in its figure; the sink's shows under \"other\")"));
        }

        if (medians.ContainsKey(GatewayB))
        {
            Console.WriteLine();
            Console.WriteLine(VariantTable(rounds, medians, Gateway, [GatewayB],
                "compare: a second FuncGateway process on the same table running another build (--compare-dll); ratios over this build's",
                "  (below 1 in CPU/req: build B costs less per request than this one)"));
        }

        Console.WriteLine();
        Console.WriteLine($"raw results: {output}");
        if (invalid.Count > 0)
        {
            Console.WriteLine("INVALID RUN — some requests failed, the figures do not compare like with like:");
            foreach (var reason in invalid)
            {
                Console.WriteLine("  " + reason);
            }

            return 1;
        }

        return 0;
    }

    private static string Table(Dictionary<string, Medians> medians)
    {
        var text = new StringBuilder();
        text.AppendLine("medians across rounds              req/s     p50 ms    p99 ms   proxy CPU µs/req   upstream CPU µs/req   rounds");
        foreach (var contender in Contenders)
        {
            var m = medians[contender];
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Labels[contender],-32} {m.Rps,10:F0} {m.P50Us / 1000,10:F3} {m.P99Us / 1000,9:F3} {Format(m.ProxyCpuUs),18} {Format(m.UpstreamCpuUs),21} {m.Rounds,8}"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Variants of one gateway route against a <paramref name="baseline"/>: throughput, same-round ratio, p99, CPU and table operations per request.</summary>
    private static string VariantTable(List<RoundResult> rounds, Dictionary<string, Medians> medians, string baseline, string[] variants, string title, string footnote)
    {
        var text = new StringBuilder();
        var reference = medians[baseline];
        text.AppendLine(title);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"",-32} {"req/s",10}  {"throughput",10} {"same-round",12} {"p99",6} {"proxy CPU/req",15} {"table ops/req",15}"));
        foreach (var contender in variants.Prepend(baseline))
        {
            if (!medians.TryGetValue(contender, out var m))
            {
                continue;
            }

            var paired = contender == baseline ? 1.0 : Median(PairedRatios(rounds, contender, baseline)) ?? double.NaN;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Labels[contender],-32} {m.Rps,10:F0}  {m.Rps / reference.Rps,10:F3} {paired,12:F3} {m.P99Us / reference.P99Us,6:F2} {Format(m.ProxyCpuUs / reference.ProxyCpuUs, "F3"),15} {Format(m.TableOpsPerRequest, "F4"),15}"));
        }

        text.Append(footnote);
        return text.ToString();
    }

    /// <summary>Issue #11: every gateway contender as a multiple of the bare YARP forwarder.</summary>
    private static string PolicyTable(List<RoundResult> rounds, Dictionary<string, Medians> medians)
    {
        var text = new StringBuilder();
        var yarp = medians[Yarp];
        text.AppendLine("policies: ratios over the bare YARP forwarder (issue #11 targets: anonymous CPU/req ≤ 1.05 and throughput ≥ 0.95; all policies CPU/req ≤ 1.2)");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"",-28} {"req/s",10}  {"throughput",10} {"same-round",12} {"p99",6} {"proxy CPU µs/req",17} {"CPU/req",9}"));
        foreach (var contender in PolicyContenders.Prepend(Gateway).Prepend(Yarp))
        {
            if (!medians.TryGetValue(contender, out var m))
            {
                continue;
            }

            var paired = contender == Yarp ? 1.0 : Median(PairedRatios(rounds, contender, Yarp)) ?? double.NaN;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Labels[contender],-28} {m.Rps,10:F0}  {m.Rps / yarp.Rps,10:F3} {paired,12:F3} {m.P99Us / yarp.P99Us,6:F2} {Format(m.ProxyCpuUs),17} {Format(m.ProxyCpuUs / yarp.ProxyCpuUs, "F3"),9}"));
        }

        text.Append("  (CPU/req: the proxy process's own CPU time per request, from /proc, over bare YARP's; the figure to trust when req/s is noisy)");
        return text.ToString();
    }

    private static readonly string[] CpuKeys = ["upstream_s", "yarp_s", "gateway_s", "gateway2_s", "azurite_s", "loadgen_s", "softirq_s", "other_s"];

    private static readonly string[] CpuLabels = ["upstream", "bare YARP", "FuncGateway", "FGW 2nd", "Azurite", "load gen", "softirq", "other"];

    private static JsonObject CpuMedians(List<RoundResult> runs)
    {
        var result = new JsonObject();
        foreach (var key in CpuKeys)
        {
            var median = Median(runs.Select(r => r.Node["cpu"]?[key]?.GetValue<double>()));
            result[key] = median is { } m ? Round(m, 2) : null;
        }

        return result;
    }

    private static string CpuTable(JsonObject summary)
    {
        var text = new StringBuilder();
        text.Append(string.Create(CultureInfo.InvariantCulture, $"{"CPU seconds used during one run (median)",-43}"));
        foreach (var label in CpuLabels)
        {
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{label,12}"));
        }

        text.AppendLine();
        foreach (var contender in Contenders)
        {
            var cpu = summary[contender]!["cpu_seconds_median"]!;
            text.Append(string.Create(CultureInfo.InvariantCulture, $"  while loading {Labels[contender],-31}"));
            foreach (var key in CpuKeys)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture, $"{Format(cpu[key]?.GetValue<double>()),12}"));
            }

            text.AppendLine();
        }

        text.Append("  (softirq: the kernel's loopback TCP work, partly inside the figures before it; other: busy CPU that none of the\n"
            + "   benchmark's processes used — other work on the machine, if well above the softirq figure)");
        return text.ToString();
    }

    private static string Format(double? value, string format = "F1") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";

    private static List<double> PairedRatios(List<RoundResult> rounds, string numerator, string denominator)
    {
        var result = new List<double>();
        foreach (var round in rounds.Select(r => r.Round).Distinct().Order())
        {
            var top = rounds.FirstOrDefault(r => r.Round == round && r.Contender == numerator);
            var bottom = rounds.FirstOrDefault(r => r.Round == round && r.Contender == denominator);
            if (top is not null && bottom is not null && bottom.Rps > 0)
            {
                result.Add(top.Rps / bottom.Rps);
            }
        }

        return result;
    }

    private static List<RoundResult> ReadRounds(string path)
    {
        var result = new List<RoundResult>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var node = JsonNode.Parse(line)!.AsObject();
            var load = node["load"]!.AsObject();
            var cpu = node["cpu"]?.AsObject();
            var requests = load["requests"]!.GetValue<double>();
            double? PerRequest(string name) =>
                cpu?[name] is { } seconds && requests > 0 ? seconds.GetValue<double>() * 1e6 / requests : null;

            var contender = node["contender"]!.GetValue<string>();
            result.Add(new RoundResult(
                node,
                node["round"]!.GetValue<int>(),
                contender,
                load["requests_per_second"]!.GetValue<double>(),
                load["p50_us"]!.GetValue<double>(),
                load["p99_us"]!.GetValue<double>(),
                load["errors"]?.GetValue<long>() ?? 0,
                load["bad_status"]?.GetValue<long>() ?? 0,
                contender switch
                {
                    Yarp => PerRequest("yarp_s"),
                    Gateway or GatewayFast or GatewayStrict or GatewayJwt or GatewayApiKey or GatewayFull
                        or GatewayPlain or GatewayTransforms or GatewayCachePlain or GatewayCacheHit or GatewayPost or GatewaySchema
                        or GatewayBodyPlain or GatewayBodyMapped => PerRequest("gateway_s"),
                    GatewayTelemetry or GatewayB => PerRequest("gateway2_s"),
                    _ => null,
                },
                PerRequest("upstream_s"),
                cpu?["machine_busy"]?.GetValue<double>(),
                node["table_ops"] is { } ops && requests > 0 ? ops.GetValue<double>() / requests : null));
        }

        return result;
    }

    private static double? Median(IEnumerable<double?> values) => Median(values.Where(v => v.HasValue).Select(v => v!.Value));

    private static double? Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    private sealed record RoundResult(
        JsonNode Node,
        int Round,
        string Contender,
        double Rps,
        double P50Us,
        double P99Us,
        long Errors,
        long BadStatus,
        double? ProxyCpuUsPerRequest,
        double? UpstreamCpuUsPerRequest,
        double? MachineBusy,
        double? TableOpsPerRequest);

    private sealed record Medians(int Rounds, double Rps, double P50Us, double P99Us, double? ProxyCpuUs, double? UpstreamCpuUs, double? MachineBusy, double? TableOpsPerRequest);
}
