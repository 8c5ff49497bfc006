using System;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;
using SyncPool.Table;

namespace SyncPool;

/// <summary>
/// Import and removal hooks. Import loads the native library from the module
/// folder first, so a missing file fails Import-Module with the path it
/// expected instead of failing on first use.
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static bool _exitHooked;
    private static readonly object Gate = new();

    public void OnImport()
    {
        NativeLibraryLoader.EnsureLoaded();
        ObjectRegistry.EnsureInstalled();
        lock (Gate)
        {
            if (_exitHooked) return;
            // Workers are native threads: stop them before the runtime goes away.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => TaskEngine.Shutdown();
            _exitHooked = true;
        }
    }

    /// <summary>Remove-Module: pools made from this runspace are removed; tables stay (other runspaces may use them).</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => TaskEngine.RemovePoolsOwnedBy(System.Management.Automation.Runspaces.Runspace.DefaultRunspace);
}
