namespace FuncGateway.Model;

/// <summary>
/// A compiled route feature that chooses its route by request input beyond the path (the API version's header,
/// query parameter or <c>Accept</c>). That input is what tells the upstream which answer to give: a response cache
/// keys it and lets it reach the upstream, whatever else it removes.
/// </summary>
internal interface IRouteSelectingInput
{
    /// <summary>The request headers that choose the route (names compared ignoring case), or none.</summary>
    IReadOnlyList<string> SelectingHeaders { get; }

    /// <summary>
    /// The query parameters that choose the route (names compared ignoring case, also in their bracketed forms
    /// <c>name[]</c>, <c>name[0]</c>, which backends read as the parameter itself), or none.
    /// </summary>
    IReadOnlyList<string> SelectingQueryParameters { get; }
}

/// <summary>
/// A compiled route feature that completes itself from the route's other features: called once, when all of the
/// route's features are compiled and before its transforms are built, never per request.
/// </summary>
internal interface IRouteFeatureLink
{
    /// <summary>Reads what it needs of <paramref name="features"/> (the route's compiled features, itself included).</summary>
    void Link(IEnumerable<object> features);
}
