using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FuncGateway.Core.Tests.Model;

public class UpstreamAddressTests
{
    [Theory]
    [InlineData("/npm/@types%2Fcors", "/npm/@types%2Fcors", "", "http://registry:4873/npm/@types%2Fcors")]
    [InlineData("/a%2fb?x=%252F", "/a%2fb", "?x=%252F", "http://registry:4873/a%2fb?x=%252F")] // the query is never touched
    [InlineData("/a%2Fb%20c", "/a%2Fb c", "", "http://registry:4873/a%2Fb%20c")]
    public void Encoded_slashes_the_client_sent_reach_the_upstream_as_sent(string rawTarget, string path, string query, string expected)
    {
        var address = UpstreamAddress.Make("http://registry:4873/", new PathString(path), new QueryString(query), Context(rawTarget));

        Assert.Equal(expected, address.AbsoluteUri);
    }

    [Fact]
    public void An_encoded_percent_in_the_raw_path_keeps_yarps_reading()
    {
        // Kestrel decodes %25 but not %2F: "/a%252Fb" arrives as the decoded path "/a%2Fb", the same as "/a%2Fb" does.
        // With a %25 in the raw path the gateway cannot tell them apart and never makes an encoded slash out of it.
        var address = UpstreamAddress.Make("http://up", new PathString("/a%2Fb"), QueryString.Empty, Context("/a%252Fb"));

        Assert.Equal("http://up/a%252Fb", address.AbsoluteUri);
    }

    [Fact]
    public void A_base_path_in_the_prefix_is_kept_and_not_rewritten()
    {
        var address = UpstreamAddress.Make("http://up/base%252F/", new PathString("/x%2Fy"), QueryString.Empty, Context("/x%2Fy"));

        Assert.Equal("http://up/base%252F/x%2Fy", address.AbsoluteUri);
    }

    [Fact]
    public void A_path_without_escapes_is_yarps_address()
    {
        var address = UpstreamAddress.Make("http://up/", new PathString("/orders/a b"), new QueryString("?q=1"), Context("/orders/a%20b?q=1"));

        Assert.Equal(Yarp.ReverseProxy.Forwarder.RequestUtilities.MakeDestinationAddress("http://up/", new PathString("/orders/a b"), new QueryString("?q=1")).AbsoluteUri, address.AbsoluteUri);
        Assert.Equal("http://up/orders/a%20b?q=1", address.AbsoluteUri);
    }

    private static DefaultHttpContext Context(string rawTarget)
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        return context;
    }
}
