namespace FuncGateway.Model;

/// <summary>
/// A condition on a request header or query parameter that a route requires in addition to its path.
/// </summary>
/// <param name="Name">The header or query parameter name, compared case-insensitively.</param>
/// <param name="Values">
/// For <see cref="ConditionMode.Exact"/>, <see cref="ConditionMode.Prefix"/> and <see cref="ConditionMode.Contains"/>:
/// the condition holds when any request value matches any of these. Empty means the condition never holds.
/// </param>
/// <param name="Mode">How values are compared.</param>
/// <param name="CaseSensitive">Whether values are compared case-sensitively.</param>
public sealed record RequestCondition(
    string Name,
    IReadOnlyList<string> Values,
    ConditionMode Mode = ConditionMode.Exact,
    bool CaseSensitive = false);
