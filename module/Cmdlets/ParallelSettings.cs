using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Builds what worker runspaces start with from cmdlet parameters, in the caller's session.</summary>
internal static class ParallelSettings
{
    public static RunspaceSettings Build(PSCmdlet caller, string[]? modules, string[]? functions) =>
        new()
        {
            Modules = (modules ?? Array.Empty<string>()).Select(m => ResolveModule(caller, m)).ToList(),
            Functions = Functions(caller, functions).ToList(),
            ConstrainedLanguage = caller.SessionState.LanguageMode == PSLanguageMode.ConstrainedLanguage,
        };

    /// <summary>-Variable entries as (name, value); a leading '$' on a name is dropped.</summary>
    public static IEnumerable<KeyValuePair<string, object?>> Variables(IDictionary? variables)
    {
        if (variables is null) yield break;
        foreach (DictionaryEntry entry in variables)
        {
            string name = (entry.Key is PSObject p ? p.BaseObject : entry.Key)?.ToString()?.TrimStart('$') ?? "";
            if (name.Length == 0) throw new ArgumentException("-Variable has an entry with an empty name.");
            yield return new KeyValuePair<string, object?>(name, entry.Value);
        }
    }

    /// <summary>
    /// The tasks' preference variables from the common parameters given to
    /// Start-ParallelTask, the way a user means them: -ErrorAction Stop makes
    /// a task's first error terminating (the task fails), -WarningAction /
    /// -InformationAction / -ProgressAction decide what a task writes at all,
    /// and -Verbose / -Debug (or the caller's own preference at Continue) make
    /// tasks write verbose/debug records. What is received is then shown by
    /// the receiving cmdlet's own preferences (as Receive-Job does).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> Preferences(PSCmdlet caller)
    {
        if (Wants(caller, "Verbose", "VerbosePreference"))
            yield return new KeyValuePair<string, object?>("VerbosePreference", ActionPreference.Continue);
        if (Wants(caller, "Debug", "DebugPreference"))
            yield return new KeyValuePair<string, object?>("DebugPreference", ActionPreference.Continue);
        var bound = caller.MyInvocation.BoundParameters;
        foreach (var (parameter, variable) in ActionParameters)
        {
            if (bound.TryGetValue(parameter, out var given) && LanguagePrimitives.TryConvertTo(given, out ActionPreference action))
                yield return new KeyValuePair<string, object?>(variable, AsPreference(action));
        }
    }

    private static readonly (string Parameter, string Variable)[] ActionParameters =
    [
        ("ErrorAction", "ErrorActionPreference"),
        ("WarningAction", "WarningPreference"),
        ("InformationAction", "InformationPreference"),
        ("ProgressAction", "ProgressPreference"),
    ];

    /// <summary>ActionPreference.Break (PowerShell 7; the reference assemblies the module builds against predate it).</summary>
    private const int BreakAction = 6;

    /// <summary>
    /// A -*Action value as a preference a task can hold: Ignore works as
    /// SilentlyContinue (it is not a valid preference value), Break as Stop
    /// (a task has no debugger), Inquire and Suspend as Continue (no one to ask).
    /// </summary>
    private static ActionPreference AsPreference(ActionPreference action) => action switch
    {
        ActionPreference.Ignore => ActionPreference.SilentlyContinue,
        _ when (int)action == BreakAction => ActionPreference.Stop,
        ActionPreference.Inquire or ActionPreference.Suspend => ActionPreference.Continue,
        _ => action,
    };

    private static bool Wants(PSCmdlet caller, string switchName, string preferenceName)
    {
        if (caller.MyInvocation.BoundParameters.TryGetValue(switchName, out var given)) return LanguagePrimitives.IsTrue(given);
        object? preference = caller.GetVariableValue(preferenceName);
        return LanguagePrimitives.TryConvertTo(preference, out ActionPreference p) && p is ActionPreference.Continue or ActionPreference.Inquire;
    }

    /// <summary>A path (relative to the caller's location) becomes a full path; a module name stays a name.</summary>
    private static string ResolveModule(PSCmdlet caller, string module)
    {
        if (string.IsNullOrWhiteSpace(module)) throw new ArgumentException("-ImportModule has an empty module name.");
        bool looksLikePath = module.IndexOfAny(['/', '\\']) >= 0 || module.StartsWith('.')
                             || module.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase) || module.EndsWith(".psm1", StringComparison.OrdinalIgnoreCase)
                             || module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        if (!looksLikePath) return module;
        string full = caller.SessionState.Path.GetUnresolvedProviderPathFromPSPath(module);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new SetupItemNotFoundException("SyncPool.ModuleNotFound", $"The module '{module}' given to -ImportModule was not found at '{full}'.", module);
        return full;
    }

    /// <summary>(name, definition) of each function named (wildcards allowed) in -ImportFunction.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Functions(PSCmdlet caller, string[]? names)
    {
        if (names is null) yield break;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string name in names)
        {
            bool pattern = WildcardPattern.ContainsWildcardCharacters(name);
            var found = caller.InvokeCommand.GetCommands(name, CommandTypes.Function | CommandTypes.Filter, pattern)
                .OfType<FunctionInfo>().ToList();
            if (found.Count == 0 && !pattern)
            {
                throw new SetupItemNotFoundException("SyncPool.FunctionNotFound",
                    $"The function '{name}' given to -ImportFunction is not defined in the caller's session. Define it (or dot-source its file) first.", name);
            }
            foreach (var function in found)
            {
                if (!seen.Add(function.Name)) continue;
                // Functions travel as text, like scripts: each runspace defines its own copy.
                string body = function.Definition;
                if (function is FilterInfo) body = "process { " + body + "\n}"; // on its first line: line numbers stay the filter's
                yield return new KeyValuePair<string, string>(function.Name, body);
            }
        }
    }

}
