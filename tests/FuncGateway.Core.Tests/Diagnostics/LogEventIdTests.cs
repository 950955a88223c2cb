using System.Reflection;
using FuncGateway.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Core.Tests.Diagnostics;

/// <summary>
/// The docs tell operators to filter and alert on event ids (errors.md, caching.md, transforms.md, …): one id must
/// mean one thing across the whole core (and across the backend library), whatever the category.
/// </summary>
public sealed class LogEventIdTests
{
    public static TheoryData<string, int> Libraries => new()
    {
        { typeof(GatewayProblem).Assembly.GetName().Name!, 100 },
        { typeof(FuncGateway.Backend.GatewaySignatureMiddleware).Assembly.GetName().Name!, 4 },
    };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Every_log_event_id_of_a_library_is_used_by_one_message_only(string library, int atLeast)
    {
        var events = Assembly.Load(library).GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(method => (method, attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(pair => pair.attribute is not null)
            .Select(pair => (id: pair.attribute!.EventId, name: pair.method.DeclaringType!.Name + "." + pair.method.Name))
            .ToList();

        Assert.True(events.Count > atLeast, $"only {events.Count} [LoggerMessage] methods found in {library}: the scan is broken");
        var shared = events.GroupBy(e => e.id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.name))}")
            .ToList();
        Assert.True(shared.Count == 0, "Event ids used by more than one log message:" + Environment.NewLine + string.Join(Environment.NewLine, shared));
    }
}
