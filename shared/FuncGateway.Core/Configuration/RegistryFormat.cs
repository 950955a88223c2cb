using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FuncGateway.Routing;

namespace FuncGateway.Configuration;

/// <summary>
/// The table entity format of the registry: property names, accepted types, and the conversion between rows and
/// definitions. The one place that knows it; the loader, the CLI and the docs all follow it.
/// </summary>
public static class RegistryFormat
{
    /// <summary>PartitionKey used when none is given.</summary>
    public const string DefaultGroup = "default";

    /// <summary>Azure Table Storage's limit on one string property: 64 KiB of UTF-16.</summary>
    public const int MaxStringPropertyChars = 32 * 1024;

    /// <summary>Route entity property names.</summary>
    public static class RouteProperties
    {
        public const string Path = "Path";
        public const string Methods = "Methods";
        public const string Hosts = "Hosts";
        public const string Headers = "Headers";
        public const string Query = "Query";
        public const string Upstream = "Upstream";
        public const string UpstreamPath = "UpstreamPath";
        public const string StripPrefix = "StripPrefix";
        public const string Priority = "Priority";
        public const string TimeoutSeconds = "TimeoutSeconds";
        public const string Enabled = "Enabled";
        public const string PreserveHost = "PreserveHost";
        public const string AllowOverrideHeader = "AllowOverrideHeader";
        public const string WebSockets = "WebSockets";

        // [#3 identity] additions go below this line.
        public const string Auth = "Auth";
        public const string Authorization = "Authorization";
        public const string TokenQueryParameter = "TokenQueryParameter";
        public const string ApiKeyQueryParameter = "ApiKeyQueryParameter";
        public const string ForwardAccessTokenQuery = "ForwardAccessTokenQuery";

        // [#5 rate limits] additions go below this line.
        public const string RateLimit = "RateLimit";

        // [#6 resilience] additions go below this line.
        public const string Retries = "Retries";
        public const string Fallback = "Fallback";

        internal static readonly HashSet<string> All = new(StringComparer.Ordinal)
        {
            Path, Methods, Hosts, Headers, Query, Upstream, UpstreamPath, StripPrefix, Priority, TimeoutSeconds, Enabled, PreserveHost,
            AllowOverrideHeader, WebSockets,

            // [#3 identity] additions go below this line.
            Auth, Authorization, TokenQueryParameter, ApiKeyQueryParameter, ForwardAccessTokenQuery,

            // [#5 rate limits] additions go below this line.
            RateLimit,

            // [#6 resilience] additions go below this line.
            Retries, Fallback,
        };
    }

    /// <summary>Upstream entity property names.</summary>
    public static class UpstreamProperties
    {
        public const string Instances = "Instances";
        public const string LoadBalancing = "LoadBalancing";

        // [#6 resilience] upstream additions go below this line.
        public const string HashKey = "HashKey";
        public const string HealthCheck = "HealthCheck";
        public const string CircuitBreaker = "CircuitBreaker";

        internal static readonly HashSet<string> All = new(StringComparer.Ordinal)
        {
            Instances, LoadBalancing,

            // [#6 resilience] upstream additions go below this line.
            HashKey, HealthCheck, CircuitBreaker,
        };
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = false,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads a routes-table row. Every problem is added to <paramref name="errors"/>; the result is null when there is any.</summary>
    public static RouteDefinition? ParseRoute(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        var start = errors.Count;
        var reader = new PropertyReader(row, errors);
        reader.CheckKeys();
        reader.RejectUnknown(RouteProperties.All);
        var path = reader.RequiredString(RouteProperties.Path);
        var upstream = reader.RequiredString(RouteProperties.Upstream);
        var methods = reader.List(RouteProperties.Methods);
        var hosts = reader.List(RouteProperties.Hosts);
        var headers = reader.Conditions(RouteProperties.Headers);
        var query = reader.Conditions(RouteProperties.Query);
        var upstreamPath = reader.OptionalString(RouteProperties.UpstreamPath);
        var stripPrefix = reader.OptionalString(RouteProperties.StripPrefix);
        var priority = reader.Int32(RouteProperties.Priority) ?? 0;
        var timeout = reader.Double(RouteProperties.TimeoutSeconds);
        var enabled = reader.Boolean(RouteProperties.Enabled) ?? true;
        var preserveHost = reader.Boolean(RouteProperties.PreserveHost) ?? false;
        var allowOverrideHeader = CheckOverrideHeader(reader.OptionalString(RouteProperties.AllowOverrideHeader), errors);
        var webSockets = reader.Boolean(RouteProperties.WebSockets) ?? false;

        // [#3 identity] additions go below this line.
        var auth = FuncGateway.Authentication.RouteAuthFormat.CheckAuth(reader.List(RouteProperties.Auth), errors);
        var authorization = FuncGateway.Authentication.RouteAuthFormat.ParseAuthorization(reader.OptionalString(RouteProperties.Authorization), errors);
        var tokenQuery = FuncGateway.Authentication.RouteAuthFormat.CheckQueryParameter(RouteProperties.TokenQueryParameter, reader.OptionalString(RouteProperties.TokenQueryParameter), errors);
        var apiKeyQuery = FuncGateway.Authentication.RouteAuthFormat.CheckQueryParameter(RouteProperties.ApiKeyQueryParameter, reader.OptionalString(RouteProperties.ApiKeyQueryParameter), errors);
        var forwardAccessTokenQuery = reader.Boolean(RouteProperties.ForwardAccessTokenQuery) ?? false;

        // [#5 rate limits] additions go below this line.
        var rateLimit = reader.List(RouteProperties.RateLimit);

        // [#6 resilience] additions go below this line.
        var retries = Resilience.ResilienceFormat.ParseRetries(RouteProperties.Retries, reader.OptionalString(RouteProperties.Retries), errors);
        var fallback = Resilience.ResilienceFormat.ParseFallback(RouteProperties.Fallback, reader.OptionalString(RouteProperties.Fallback), errors);
        if (errors.Count > start || path is null || upstream is null)
        {
            return null;
        }

        return new RouteDefinition
        {
            Id = row.RowKey,
            Group = row.PartitionKey,
            Path = path,
            Methods = methods,
            Hosts = hosts,
            Headers = headers,
            Query = query,
            Upstream = upstream,
            UpstreamPath = upstreamPath,
            StripPrefix = stripPrefix,
            Priority = priority,
            TimeoutSeconds = timeout,
            Enabled = enabled,
            PreserveHost = preserveHost,
            AllowOverrideHeader = allowOverrideHeader,
            WebSockets = webSockets,

            // [#3 identity] additions go below this line.
            Auth = auth,
            Authorization = authorization,
            TokenQueryParameter = tokenQuery,
            ApiKeyQueryParameter = apiKeyQuery,
            ForwardAccessTokenQuery = forwardAccessTokenQuery,

            // [#5 rate limits] additions go below this line.
            RateLimit = rateLimit,

            // [#6 resilience] additions go below this line.
            Retries = retries,
            Fallback = fallback,
        };
    }

    /// <summary>Reads an upstreams-table row. Every problem is added to <paramref name="errors"/>; the result is null when there is any.</summary>
    public static UpstreamDefinition? ParseUpstream(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        var start = errors.Count;
        var reader = new PropertyReader(row, errors);
        reader.CheckKeys();
        reader.RejectUnknown(UpstreamProperties.All);
        var instances = reader.Instances(UpstreamProperties.Instances);
        var policy = reader.OptionalString(UpstreamProperties.LoadBalancing);

        // [#6 resilience] upstream additions go below this line.
        var hashKey = Resilience.ResilienceFormat.ValidateHashKey(reader.OptionalString(UpstreamProperties.HashKey), policy, errors);
        var healthCheck = Resilience.ResilienceFormat.ParseHealthCheck(UpstreamProperties.HealthCheck, reader.OptionalString(UpstreamProperties.HealthCheck), errors);
        var circuitBreaker = Resilience.ResilienceFormat.ParseCircuitBreaker(UpstreamProperties.CircuitBreaker, reader.OptionalString(UpstreamProperties.CircuitBreaker), errors);
        if (errors.Count > start || instances is null)
        {
            return null;
        }

        return new UpstreamDefinition
        {
            Name = row.RowKey,
            Group = row.PartitionKey,
            Instances = instances,
            LoadBalancing = policy ?? LoadBalancing.LoadBalancingPolicies.RoundRobin,

            // [#6 resilience] upstream additions go below this line.
            HashKey = hashKey,
            HealthCheck = healthCheck,
            CircuitBreaker = circuitBreaker,
        };
    }

    /// <summary>The entity a route is stored as. Optional values at their defaults are left out.</summary>
    public static RegistryRow ToRow(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var p = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [RouteProperties.Path] = route.Path,
            [RouteProperties.Upstream] = route.Upstream,
        };
        if (route.Methods.Count > 0)
        {
            p[RouteProperties.Methods] = string.Join(',', route.Methods);
        }

        if (route.Hosts.Count > 0)
        {
            p[RouteProperties.Hosts] = string.Join(',', route.Hosts);
        }

        if (route.Headers.Count > 0)
        {
            p[RouteProperties.Headers] = JsonSerializer.Serialize(route.Headers, JsonOptions);
        }

        if (route.Query.Count > 0)
        {
            p[RouteProperties.Query] = JsonSerializer.Serialize(route.Query, JsonOptions);
        }

        AddIfSet(p, RouteProperties.UpstreamPath, route.UpstreamPath);
        AddIfSet(p, RouteProperties.StripPrefix, route.StripPrefix);
        if (route.Priority != 0)
        {
            p[RouteProperties.Priority] = route.Priority;
        }

        if (route.TimeoutSeconds is { } timeout)
        {
            p[RouteProperties.TimeoutSeconds] = timeout;
        }

        if (!route.Enabled)
        {
            p[RouteProperties.Enabled] = false;
        }

        if (route.PreserveHost)
        {
            p[RouteProperties.PreserveHost] = true;
        }

        AddIfSet(p, RouteProperties.AllowOverrideHeader, route.AllowOverrideHeader);
        if (route.WebSockets)
        {
            p[RouteProperties.WebSockets] = true;
        }

        // [#3 identity] additions go below this line.
        if (route.Auth.Count > 0)
        {
            p[RouteProperties.Auth] = string.Join(',', route.Auth);
        }

        if (route.Authorization is { } authorizationRequirements)
        {
            p[RouteProperties.Authorization] = FuncGateway.Authentication.RouteAuthFormat.Serialize(authorizationRequirements);
        }

        AddIfSet(p, RouteProperties.TokenQueryParameter, route.TokenQueryParameter);
        AddIfSet(p, RouteProperties.ApiKeyQueryParameter, route.ApiKeyQueryParameter);
        if (route.ForwardAccessTokenQuery)
        {
            p[RouteProperties.ForwardAccessTokenQuery] = true;
        }

        // [#5 rate limits] additions go below this line.
        if (route.RateLimit.Count > 0)
        {
            p[RouteProperties.RateLimit] = string.Join(',', route.RateLimit);
        }

        // [#6 resilience] additions go below this line.
        if (route.Retries is not null)
        {
            p[RouteProperties.Retries] = Resilience.ResilienceFormat.ToJson(route.Retries);
        }

        if (route.Fallback is not null)
        {
            p[RouteProperties.Fallback] = Resilience.ResilienceFormat.ToJson(route.Fallback);
        }

        return new RegistryRow(RegistryTable.Routes, route.Group, route.Id, p);
    }

    /// <summary>The entity an upstream pool is stored as.</summary>
    public static RegistryRow ToRow(UpstreamDefinition upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var p = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [UpstreamProperties.Instances] = JsonSerializer.Serialize(upstream.Instances, JsonOptions),
            [UpstreamProperties.LoadBalancing] = upstream.LoadBalancing,
        };

        // [#6 resilience] upstream additions go below this line.
        AddIfSet(p, UpstreamProperties.HashKey, upstream.HashKey);
        if (upstream.HealthCheck is not null)
        {
            p[UpstreamProperties.HealthCheck] = Resilience.ResilienceFormat.ToJson(upstream.HealthCheck);
        }

        if (upstream.CircuitBreaker is not null)
        {
            p[UpstreamProperties.CircuitBreaker] = Resilience.ResilienceFormat.ToJson(upstream.CircuitBreaker);
        }

        return new RegistryRow(RegistryTable.Upstreams, upstream.Group, upstream.Name, p);
    }

    /// <summary>Checks <c>AllowOverrideHeader</c>: one of the override headers (any case), returned in its canonical spelling.</summary>
    private static string? CheckOverrideHeader(string? name, List<string> errors)
    {
        if (name is null)
        {
            return null;
        }

        if (FuncGateway.Transforms.UntrustedRequestHeaders.CanonicalOverrideHeader(name) is { } canonical)
        {
            return canonical;
        }

        errors.Add($"{RouteProperties.AllowOverrideHeader} '{Printable(name)}' is not one of {string.Join(", ", FuncGateway.Transforms.UntrustedRequestHeaders.OverrideHeaders)}.");
        return null;
    }

    private static void AddIfSet(Dictionary<string, object?> properties, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            properties[name] = value;
        }
    }

    /// <summary>Typed access to a row's properties that records precise errors instead of throwing.</summary>
    private readonly struct PropertyReader(RegistryRow row, List<string> errors)
    {
        public void CheckKeys()
        {
            CheckKey("PartitionKey", row.PartitionKey, allowEmpty: true);
            CheckKey("RowKey", row.RowKey, allowEmpty: false);
        }

        private void CheckKey(string name, string value, bool allowEmpty)
        {
            if (value.Length == 0)
            {
                if (!allowEmpty)
                {
                    errors.Add($"{name} is empty.");
                }

                return;
            }

            if (value.Length > 256)
            {
                errors.Add($"{name} is longer than 256 characters.");
            }

            foreach (var c in value)
            {
                if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
                {
                    errors.Add($"{name} '{Printable(value)}' contains '{Printable(c.ToString())}'; keys may not contain '/', '\\', '#', '?' or control characters.");
                    return;
                }
            }
        }

        public void RejectUnknown(HashSet<string> known)
        {
            foreach (var name in row.Properties.Keys)
            {
                if (!known.Contains(name))
                {
                    var suggestion = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
                    errors.Add(suggestion is null
                        ? $"Unknown property '{name}'. Known properties: {string.Join(", ", known.Order(StringComparer.Ordinal))}."
                        : $"Unknown property '{name}'; property names are case-sensitive: did you mean '{suggestion}'?");
                }
            }
        }

        private object? Get(string name) => row.Properties.TryGetValue(name, out var value) ? value : null;

        public string? RequiredString(string name)
        {
            var value = OptionalString(name);
            if (value is null && !row.Properties.ContainsKey(name))
            {
                errors.Add($"{name} is required.");
            }
            else if (value is null && Get(name) is null or string)
            {
                errors.Add($"{name} is required and may not be empty.");
            }

            return value;
        }

        public string? OptionalString(string name)
        {
            switch (Get(name))
            {
                case null:
                    return null;
                case string s when s.Length > MaxStringPropertyChars:
                    errors.Add($"{name} is longer than {MaxStringPropertyChars} characters (Table Storage's 64 KiB limit).");
                    return null;
                case string s:
                    s = s.Trim();
                    return s.Length == 0 ? null : s;
                case var other:
                    errors.Add($"{name} must be a string, not {TypeName(other)}.");
                    return null;
            }
        }

        /// <summary>A list given as a comma-separated string or as a JSON array of strings.</summary>
        public List<string> List(string name)
        {
            var text = OptionalString(name);
            if (text is null)
            {
                return [];
            }

            string[] items;
            if (text.StartsWith('['))
            {
                try
                {
                    items = JsonSerializer.Deserialize<string[]>(text, JsonOptions) ?? [];
                }
                catch (JsonException ex)
                {
                    errors.Add($"{name} is not a valid JSON array of strings: {JsonMessage(ex)}");
                    return [];
                }
            }
            else
            {
                items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            }

            var result = new List<string>(items.Length);
            foreach (var item in items)
            {
                if (string.IsNullOrWhiteSpace(item))
                {
                    errors.Add($"{name} contains an empty item.");
                    continue;
                }

                result.Add(item.Trim());
            }

            return result;
        }

        public List<RequestCondition> Conditions(string name)
        {
            var text = OptionalString(name);
            if (text is null)
            {
                return [];
            }

            try
            {
                var conditions = JsonSerializer.Deserialize<List<RequestCondition>>(text, JsonOptions);
                if (conditions is null)
                {
                    errors.Add($"{name} must be a JSON array of conditions, not null.");
                    return [];
                }

                return conditions;
            }
            catch (JsonException ex)
            {
                errors.Add($"{name} is not a valid JSON array of conditions ({{\"name\":\"...\",\"values\":[\"...\"],\"mode\":\"Exact|Prefix|Contains|Exists|NotExists\",\"caseSensitive\":false}}): {JsonMessage(ex)}");
                return [];
            }
        }

        public List<UpstreamInstanceDefinition>? Instances(string name)
        {
            var text = OptionalString(name);
            if (text is null)
            {
                if (!errors.Any(e => e.StartsWith(name, StringComparison.Ordinal)))
                {
                    errors.Add($"{name} is required: a JSON array such as [{{\"url\":\"http://10.0.0.4:8080\",\"weight\":1}}].");
                }

                return null;
            }

            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != JsonValueKind.Array)
                {
                    errors.Add($"{name} must be a JSON array.");
                    return null;
                }

                var result = new List<UpstreamInstanceDefinition>();
                foreach (var item in doc.RootElement.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        result.Add(new UpstreamInstanceDefinition(item.GetString()!));
                    }
                    else if (item.ValueKind == JsonValueKind.Object)
                    {
                        var instance = item.Deserialize<UpstreamInstanceDefinition>(JsonOptions);
                        if (instance?.Url is null)
                        {
                            errors.Add($"{name}: every instance needs a \"url\".");
                            return null;
                        }

                        result.Add(instance);
                    }
                    else
                    {
                        errors.Add($"{name}: each instance is a URL string or an object {{\"url\":\"...\",\"weight\":1}}.");
                        return null;
                    }
                }

                return result;
            }
            catch (JsonException ex)
            {
                errors.Add($"{name} is not valid JSON: {JsonMessage(ex)}");
                return null;
            }
        }

        public int? Int32(string name)
        {
            switch (Get(name))
            {
                case null:
                    return null;
                case int i:
                    return i;
                case long l when l is >= int.MinValue and <= int.MaxValue:
                    return (int)l;
                case string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed):
                    return parsed;
                case var other:
                    errors.Add($"{name} must be a 32-bit integer, not {TypeName(other)} '{Printable(Convert.ToString(other, CultureInfo.InvariantCulture) ?? "")}'.");
                    return null;
            }
        }

        public double? Double(string name)
        {
            double? value = Get(name) switch
            {
                null => null,
                double d => d,
                int i => i,
                long l => l,
                string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => double.NaN,
            };
            if (value is double v && (double.IsNaN(v) || double.IsInfinity(v)))
            {
                errors.Add($"{name} must be a number, not {TypeName(Get(name))} '{Printable(Convert.ToString(Get(name), CultureInfo.InvariantCulture) ?? "")}'.");
                return null;
            }

            return value;
        }

        public bool? Boolean(string name)
        {
            switch (Get(name))
            {
                case null:
                    return null;
                case bool b:
                    return b;
                case string s when bool.TryParse(s, out var parsed):
                    return parsed;
                case var other:
                    errors.Add($"{name} must be a boolean (true or false), not {TypeName(other)} '{Printable(Convert.ToString(other, CultureInfo.InvariantCulture) ?? "")}'.");
                    return null;
            }
        }

        private static string TypeName(object? value) => value switch
        {
            null => "null",
            string => "a string",
            int => "an Int32",
            long => "an Int64",
            double => "a Double",
            bool => "a Boolean",
            DateTimeOffset or DateTime => "a DateTime",
            Guid => "a Guid",
            byte[] => "Binary",
            _ => value.GetType().Name,
        };

        private static string JsonMessage(JsonException ex)
        {
            // The serializer's message names .NET types; keep only the position, which is what an operator can act on.
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, position {ex.BytePositionInLine + 1}" : "";
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }

            return message.Replace("FuncGateway.Routing.", "", StringComparison.Ordinal)
                .Replace("FuncGateway.Configuration.", "", StringComparison.Ordinal) + where;
        }
    }

    /// <summary>Makes a value safe to echo into a log line or an error message (no control characters, bounded length).</summary>
    internal static string Printable(string value)
    {
        const int max = 200;
        var span = value.AsSpan(0, Math.Min(value.Length, max));
        var chars = new char[span.Length];
        for (var i = 0; i < span.Length; i++)
        {
            chars[i] = char.IsControl(span[i]) ? '?' : span[i];
        }

        return value.Length > max ? new string(chars) + "…" : new string(chars);
    }
}
