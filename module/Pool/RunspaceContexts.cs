using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// The runspaces behind the engine's contexts. The engine decides which
/// context a batch runs in, when a new one is needed and when an idle one
/// expires; this holds the runspace for each context id, and builds it from
/// the settings its key stands for.
/// </summary>
/// <remarks>
/// A key is one set of runspace settings (modules, functions, language
/// mode): pools and calls with equal settings share warm runspaces.
/// Variables are not part of it: they are set for each batch, so a call
/// with its own -Variable values still gets a warm runspace.
/// </remarks>
internal static class RunspaceContexts
{
    private static readonly ConcurrentDictionary<string, ulong> KeysBySignature = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<ulong, RunspaceSettings> SettingsByKey = new();
    private static readonly ConcurrentDictionary<ulong, WorkerRunspace> Runspaces = new();
    /// <summary>One session state per key, built once: creating a runspace clones it.</summary>
    private static readonly ConcurrentDictionary<ulong, InitialSessionState> SessionStates = new();
    private static long _lastKey;

    public static ulong KeyFor(RunspaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return KeysBySignature.GetOrAdd(settings.Signature, _ =>
        {
            ulong key = (ulong)System.Threading.Interlocked.Increment(ref _lastKey);
            SettingsByKey[key] = settings;
            return key;
        });
    }

    /// <summary>
    /// The runspace of <paramref name="context"/>: opened on the calling
    /// (worker) thread when the engine says the context is
    /// <paramref name="fresh"/>, otherwise the one opened for it before.
    /// </summary>
    public static WorkerRunspace Get(ulong context, bool fresh, ulong key)
    {
        if (!fresh)
        {
            if (Runspaces.TryGetValue(context, out var existing)) return existing;
            throw new InvalidOperationException($"SyncPool internal error: the engine reused context {context}, which has no runspace.");
        }
        if (Runspaces.ContainsKey(context))
            throw new InvalidOperationException($"SyncPool internal error: the engine handed out context {context} as new, but it has a runspace.");
        if (!SettingsByKey.TryGetValue(key, out var settings))
            throw new InvalidOperationException($"SyncPool internal error: no runspace settings are known for context key {key}.");
        var iss = SessionStates.GetOrAdd(key, _ => BuildSessionState(settings));
        Runspace runspace;
        // Creating a runspace clones the session state; the clone is quick, opening (below) is the slow part.
        lock (iss) runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Name = $"SyncPool:Context{context}";
        try
        {
            runspace.Open();
        }
        catch
        {
            runspace.Dispose();
            throw;
        }
        var worker = new WorkerRunspace(runspace);
        Runspaces[context] = worker;
        return worker;
    }

    /// <summary>Closes the runspace of <paramref name="context"/> (expired, discarded or shut down).</summary>
    public static void Dispose(ulong context)
    {
        if (Runspaces.TryRemove(context, out var worker)) worker.Dispose();
    }

    /// <summary>The session every runspace with these settings starts with (and is reset to).</summary>
    internal static InitialSessionState BuildSessionState(RunspaceSettings settings)
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ThreadOptions = PSThreadOptions.UseCurrentThread;
        if (settings.ConstrainedLanguage) iss.LanguageMode = PSLanguageMode.ConstrainedLanguage;
        // A module that fails to import fails the batch with the reason, rather
        // than leaving its commands silently missing.
        iss.ThrowOnRunspaceOpenError = true;
        foreach (var (name, definition) in settings.Functions)
            iss.Commands.Add(new SessionStateFunctionEntry(name, definition));
        // SyncPool's own cmdlets, for nested tasks and tables: added as commands, which costs
        // nothing at runspace creation, instead of importing the module into every runspace.
        foreach (var (name, type) in OwnCmdlets) iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        if (!settings.ConstrainedLanguage)
            foreach (var driver in BatchDrivers.Entries()) iss.Commands.Add(driver);
        if (settings.Modules.Count > 0) iss.ImportPSModule(settings.Modules.ToArray());
        return iss;
    }

    /// <summary>The cmdlets this assembly defines, by name.</summary>
    private static readonly List<(string Name, Type Type)> OwnCmdlets = FindOwnCmdlets();

    private static List<(string Name, Type Type)> FindOwnCmdlets()
    {
        var found = new List<(string, Type)>();
        foreach (var type in typeof(RunspaceContexts).Assembly.GetTypes())
        {
            if (type.IsAbstract || type.GetCustomAttributes(typeof(CmdletAttribute), inherit: false) is not [CmdletAttribute attribute]) continue;
            found.Add(($"{attribute.VerbName}-{attribute.NounName}", type));
        }
        return found;
    }
}
