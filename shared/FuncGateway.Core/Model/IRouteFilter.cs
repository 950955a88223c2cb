namespace FuncGateway.Model;

/// <summary>
/// Decides, from a route row as stored, whether this gateway serves the route at all. A row it does not serve is left
/// out of the snapshot before it is parsed: not compiled, not matched, not rejected and not listed at
/// <c>/_gateway/rejected</c> (it belongs to another gateway). Its id still counts for uniqueness across the table.
/// </summary>
internal interface IRouteFilter
{
    /// <summary>True when this gateway serves the route; a row whose filter property cannot be read is served, so its parse rejects it with the reason.</summary>
    bool Serves(RegistryRow row);
}
