namespace SyncPool.Native;

// The table passes keys, values and results to the core by pointer, in the
// layouts the generated bindings define (each type's nested `Unmanaged`
// struct): that crosses with no marshalling. These members convert the
// generated enums to and from those layouts without the generator-only
// helpers.

public partial struct KeyKind
{
    /// <summary>This kind in the layout the core reads.</summary>
    internal Unmanaged Native => new() { _variant = _variant };
}

public partial struct ValueKind
{
    /// <summary>This kind in the layout the core reads.</summary>
    internal Unmanaged Native => new() { _variant = _variant };

    /// <summary>The kind the core wrote.</summary>
    internal static ValueKind Of(Unmanaged native) => new() { _variant = native._variant };
}
