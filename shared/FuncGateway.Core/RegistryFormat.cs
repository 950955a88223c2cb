using System.Text.Json;
using FuncGateway.Composition;
using FuncGateway.Configuration;
using FuncGateway.FixedResponses;
using FuncGateway.Model;
using FuncGateway.Versioning;

namespace FuncGateway;

/// <summary>
/// The gateway's registry format as composed from the core and every capability in <see cref="GatewayCapabilities"/>:
/// the entry point for hosts, the CLI and tests. Code inside the core's folders takes a
/// <see cref="RegistrySerializer"/> instead (it must not depend on the composition root).
/// </summary>
public static class RegistryFormat
{
    /// <summary>PartitionKey used when none is given.</summary>
    public const string DefaultGroup = RegistryConventions.DefaultGroup;

    /// <summary>Azure Table Storage's limit on one string property: 64 KiB of UTF-16.</summary>
    public const int MaxStringPropertyChars = RegistryEntityReader.MaxStringPropertyChars;

    /// <summary>The JSON conventions of values stored in entities.</summary>
    public static JsonSerializerOptions JsonOptions => RegistryJson.Options;

    /// <summary>The composed serializer.</summary>
    public static RegistrySerializer Serializer => GatewayCapabilities.Serializer;

    /// <summary>Every property a route or upstream may have.</summary>
    public static RegistrySchema Schema => Serializer.Schema;

    /// <inheritdoc cref="RegistrySerializer.ParseRoute"/>
    public static RouteDefinition? ParseRoute(RegistryRow row, List<string> errors) => Serializer.ParseRoute(row, errors);

    /// <inheritdoc cref="RegistrySerializer.ParseUpstream"/>
    public static UpstreamDefinition? ParseUpstream(RegistryRow row, List<string> errors) => Serializer.ParseUpstream(row, errors);

    /// <inheritdoc cref="RegistrySerializer.ToRow(RouteDefinition)"/>
    public static RegistryRow ToRow(RouteDefinition route) => Serializer.ToRow(route);

    /// <inheritdoc cref="RegistrySerializer.ToRow(UpstreamDefinition)"/>
    public static RegistryRow ToRow(UpstreamDefinition upstream) => Serializer.ToRow(upstream);

    /// <summary>
    /// The route compilers that need no configuration, for tools that validate a registry without the gateway's
    /// settings (<c>fgw validate</c>, <c>fgw import</c>): what they know of a route beyond its format.
    /// </summary>
    internal static IReadOnlyList<IRouteFeatureCompiler> OfflineCompilers { get; } = [OfflineApiVersionCompiler.Instance, FixedResponseCompiler.Instance, CompositionCompiler.Offline, Authentication.OfflineRouteAuthCompiler.Instance];

    /// <summary>The pool compilers that need no configuration, for the same tools: a pool's discovery fields.</summary>
    internal static IReadOnlyList<IPoolFeatureCompiler> OfflinePoolCompilers { get; } = [FuncGateway.Discovery.OfflineDiscoveryCompiler.Instance];

    /// <summary>Makes a value safe to echo into a log line or an error message (no control characters, bounded length).</summary>
    internal static string Printable(string value) => PrintableText.Of(value);
}
