using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// The streams of a user's scriptblock that a compiled cmdlet runs. Invoked
/// through the public APIs, a block writes its errors, warnings and the rest
/// past the cmdlet, where 2>&amp;1, -ErrorVariable and -WarningAction cannot
/// see them; run through one of these wrappers, every stream is merged into
/// its output, and <see cref="TryWrite"/> sends each record back to its
/// stream through the cmdlet (so a record object the block outputs as data
/// goes there too).
/// </summary>
internal static class ScriptStreams
{
    /// <summary>Dot-sources the block given as the first argument: the caller's scope, as ForEach-Object runs its block.</summary>
    internal static readonly ScriptBlock DotSourced = ScriptBlock.Create(". $args[0] *>&1");

    /// <summary>Calls the block given as the first argument, in a scope of its own, with the second argument.</summary>
    internal static readonly ScriptBlock Called = ScriptBlock.Create("& $args[0] $args[1] *>&1");

    /// <summary>Writes <paramref name="item"/> to its stream if it is a record of one; false for output.</summary>
    internal static bool TryWrite(Cmdlet cmdlet, PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case ErrorRecord error: cmdlet.WriteError(error); return true;
            case WarningRecord warning: cmdlet.WriteWarning(warning.Message); return true;
            case VerboseRecord verbose: cmdlet.WriteVerbose(verbose.Message); return true;
            case DebugRecord debug: cmdlet.WriteDebug(debug.Message); return true;
            case InformationRecord information: cmdlet.WriteInformation(information); return true;
            default: return false;
        }
    }
}
