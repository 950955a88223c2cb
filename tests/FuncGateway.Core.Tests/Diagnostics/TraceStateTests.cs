using FuncGateway.Diagnostics;
using Microsoft.Extensions.Primitives;

namespace FuncGateway.Core.Tests.Diagnostics;

public sealed class TraceStateTests
{
    [Theory]
    [InlineData("vendor=opaque")]
    [InlineData("a=1,b=2,t@s=x y")]
    public void A_valid_list_within_the_limits_is_passed_on_as_it_came_without_allocating(string list)
    {
        _ = TraceState.Limit(list);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = TraceState.Limit(new StringValues(list));
        var none = TraceState.Limit(StringValues.Empty);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(list, result);
        Assert.Null(none);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("a=1 , b=2,", "a=1,b=2")]
    [InlineData(" , ", null)]
    [InlineData("a=1,a=2", null)]
    [InlineData("1a=1", null)]
    [InlineData("a=", null)]
    [InlineData("a=x ,b=2", "a=x,b=2")]
    [InlineData("a=b=c", null)]
    [InlineData("tenant@toolongsystemid=1", null)]
    [InlineData("tenant@sys=1", "tenant@sys=1")]
    public void Lists_are_read_as_the_spec_writes_them(string list, string? expected) =>
        Assert.Equal(expected, TraceState.Limit(list));
}
