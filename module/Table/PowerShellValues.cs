using System;
using System.Runtime.CompilerServices;

namespace SyncPool.Table;

/// <summary>
/// Sees through PowerShell's PSObject wrapper without making the table
/// depend on PowerShell being loaded (the engine is also used from plain .NET).
/// </summary>
internal static class PowerShellValues
{
    /// <summary>
    /// PowerShell's PSObject type, or null when PowerShell is not loaded (then
    /// nothing can be a PSObject). Resolved once: this runs on every table call.
    /// </summary>
    private static readonly Type? PSObjectType =
        Type.GetType("System.Management.Automation.PSObject, System.Management.Automation", throwOnError: false);

    /// <summary>Whether <paramref name="value"/> is a PSObject (never, when PowerShell is not loaded).</summary>
    public static bool IsPSObject(object value) => PSObjectType is not null && value.GetType() == PSObjectType;

    /// <summary>The wrapped value for PSObjects around natively storable values; anything else unchanged.</summary>
    public static object? Unwrap(object? value)
    {
        if (value is null || PSObjectType is null || value.GetType() != PSObjectType) return value;
        object? inner = BaseObject(value);
        return inner is string or bool or int or long or short or sbyte or byte or ushort or uint or ulong or double or float or byte[] or System.DateTime or char
            ? inner
            : value;
    }

    /// <summary>
    /// Whether a stored live object is <paramref name="expected"/>: the same
    /// instance (seen through a PSObject wrapper, except that every
    /// [PSCustomObject] is its own PSObject), or an equal boxed value of the
    /// same type (a Guid, a decimal).
    /// </summary>
    public static bool SameObject(object? stored, object? expected)
    {
        object? a = Instance(stored), b = Instance(expected);
        if (ReferenceEquals(a, b)) return true;
        return a is not null && b is not null && a.GetType().IsValueType && a.GetType() == b.GetType() && a.Equals(b);
    }

    /// <summary>The full name of the value's type, seen through a PSObject wrapper (for messages).</summary>
    public static string TypeName(object? value) =>
        value is null ? "null" : (IsPSObject(value) ? InstanceOf(value) : value).GetType().FullName ?? value.GetType().Name;

    private static object? Instance(object? value) => value is not null && IsPSObject(value) ? InstanceOf(value) : value;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object InstanceOf(object value)
    {
        var wrapped = (System.Management.Automation.PSObject)value;
        return wrapped.BaseObject is System.Management.Automation.PSCustomObject ? wrapped : wrapped.BaseObject;
    }

    // Kept out of line so the JIT only needs System.Management.Automation when a PSObject really arrives.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object? BaseObject(object value) => ((System.Management.Automation.PSObject)value).BaseObject;
}
