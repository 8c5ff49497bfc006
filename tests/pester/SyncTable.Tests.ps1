# Pester 5 suite for the SyncTable cmdlets and hashtable behaviour.
# Mirrors every pattern of ../shared/seeds/synchronized-hashtables-between-runspaces.txt
# with New-SyncTable in place of [hashtable]::Synchronized(@{}).

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force
}

Describe 'New-SyncTable behaves like a synchronized hashtable' {
    BeforeEach { Register-CurrentTest }
    It 'supports dot, index, ++, Count, Keys, Values, ContainsKey, Remove, Clear' {
        $t = New-SyncTable
        $t.One = 1
        $t['Two'] = 2
        $t.One++
        $t[5] = 'five'
        $t.One | Should -Be 2
        $t['one'] | Should -Be 2
        $t.Count | Should -Be 3
        $t.Keys | Should -Contain 'Two'
        $t.Values | Should -Contain 'five'
        $t.ContainsKey('TWO') | Should -BeTrue
        'Two' -in $t.Keys | Should -BeTrue
        # The hashtable methods seed scripts use: Clone() (to enumerate while others write), ContainsValue().
        $copy = $t.Clone()
        $copy | Should -BeOfType [hashtable]
        $copy.Count | Should -Be 3
        $copy['ONE'] | Should -Be 2 -Because 'the copy keeps the table''s case rule'
        $copy.x = 1; $t.ContainsKey('x') | Should -BeFalse
        $t.ContainsValue('five') | Should -BeTrue
        $t.ContainsValue('nothing') | Should -BeFalse
        $o = [pscustomobject]@{ a = 1 }; $t.o = $o
        $t.ContainsValue($o) | Should -BeTrue
        $t.Remove('o')
        $t.Remove('Two')
        $t.ContainsKey('Two') | Should -BeFalse
        $t.Clear()
        $t.Count | Should -Be 0
    }

    It 'enumerates Name/Value entries and formats like a hashtable' {
        $t = New-SyncTable -InitialValue @{ a = 1; b = 2 }
        $entries = $t.GetEnumerator() | Sort-Object Name
        $entries[0].Name | Should -Be 'a'
        $entries[1].Value | Should -Be 2
        ($t | Out-String) | Should -Match 'Name\s+Value'
        $seen = foreach ($k in $t.Keys) { $k }
        $seen.Count | Should -Be 2
    }

    It 'keeps integer and string keys apart and folds case like OrdinalIgnoreCase' {
        $t = New-SyncTable
        $t[1] = 'int'
        $t['1'] = 'text'
        $t.Count | Should -Be 2
        # Every way of reading: a literal, a variable, a [long], a key from the pipeline (PSObject-wrapped), slicing.
        $t[1] | Should -Be 'int'
        $t['1'] | Should -Be 'text'
        $one = 1; $t[$one] | Should -Be 'int'
        $t[[long]1] | Should -Be 'int'
        $wrapped = Write-Output 1; $t[$wrapped] | Should -Be 'int'
        $t.'1' | Should -Be 'text' -Because 'dot access names a member, which is text (as on a hashtable)'
        $t[1, '1'] | Should -Be @('int', 'text')
        $t[2] | Should -BeNullOrEmpty
        $t['A'] = 1
        $t['a'] | Should -Be 1
        $t['ß'] = 1
        $t.ContainsKey('SS') | Should -BeFalse
        $cs = New-SyncTable -CaseSensitive
        $cs['A'] = 1; $cs['a'] = 2
        $cs.Count | Should -Be 2
        # -InitialValue refuses two keys that are one key in the table instead of dropping one.
        $mixed = [hashtable]::new([StringComparer]::Ordinal); $mixed.a = 1; $mixed.A = 2
        { New-SyncTable -InitialValue $mixed } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
        (New-SyncTable -InitialValue $mixed -CaseSensitive).Count | Should -Be 2
        $numbers = [hashtable]::new(); $numbers[1] = 'int'; $numbers[[long]1] = 'long'
        $numbers.Count | Should -Be 2 -Because 'a hashtable keeps [int]1 and [long]1 apart'
        { New-SyncTable -InitialValue $numbers } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
        # The property reports the core's rule, and still does after removal.
        $t.CaseSensitive | Should -BeFalse
        $cs.CaseSensitive | Should -BeTrue
        Remove-SyncTable $cs -Confirm:$false
        $cs.CaseSensitive | Should -BeTrue
    }

    It 'round-trips non-ASCII keys' {
        $t = New-SyncTable
        $t['Größe'] = '東京'
        $t['größe'] | Should -Be '東京'
    }

    It 'rejects null and unsupported keys with a clear error naming the type' {
        $t = New-SyncTable
        # PowerShell itself refuses a $null index before the table sees it; the table's own check covers method calls.
        { $t[$null] = 1 } | Should -Throw '*index evaluated to null*'
        { $t.Add($null, 1) } | Should -Throw '*cannot be null*'
        { $t.Increment($null) } | Should -Throw '*cannot be null*'
        { $t[[version]'1.0'] = 1 } | Should -Throw '*System.Version*'
    }

    It 'is shared through SessionStateProxy.SetVariable (single runspace pattern)' {
        $hash = New-SyncTable
        $hash.One = 1
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $runspace.SessionStateProxy.SetVariable('Hash', $hash)
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        [void]$ps.AddScript({ $hash.One++ })
        $ps.Invoke()
        $ps.Dispose(); $runspace.Dispose()
        $hash.One | Should -Be 2
    }

    It 'is shared through AddArgument into a RunspacePool' {
        $hash = New-SyncTable
        $pool = [runspacefactory]::CreateRunspacePool(1, 5)
        $pool.Open()
        $handles = foreach ($computer in 1..5) {
            $ps = [powershell]::Create().AddScript({ param($computer, $hash) $hash[$computer] = ([int]$computer * 10) }).AddArgument($computer).AddArgument($hash)
            $ps.RunspacePool = $pool
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        foreach ($h in $handles) { [void]$h.PS.EndInvoke($h.Handle); $h.PS.Dispose() }
        $pool.Close()
        $hash[3] | Should -Be 30
        $hash.Count | Should -Be 5
    }

    It 'is shared through $using: in ForEach-Object -Parallel' {
        $t = New-SyncTable
        1..20 | ForEach-Object -Parallel { ($using:t).Increment('n') | Out-Null } -ThrottleLimit 4
        $t.n | Should -Be 20
    }

    It 'is shared through Start-ThreadJob -ArgumentList' {
        $t = New-SyncTable
        Start-ThreadJob { param($t) $t.Job = 'ran' } -ArgumentList $t | Wait-Job | Remove-Job
        $t.Job | Should -Be 'ran'
    }

    It 'is the same table in nested runspaces several levels deep' {
        $t = New-SyncTable
        $outer = [powershell]::Create().AddScript({
            param($t)
            $inner = [powershell]::Create().AddScript({ param($t) $t.Depth = 2 }).AddArgument($t)
            $inner.Invoke(); $inner.Dispose()
        }).AddArgument($t)
        $outer.Invoke(); $outer.Dispose()
        $t.Depth | Should -Be 2
    }

    It 'keeps live objects as the same instances (methods callable) and releases them' {
        $t = New-SyncTable
        $list = [System.Collections.Generic.List[int]]::new()
        $t.List = $list
        $ps = [powershell]::Create().AddScript({ param($t) $t.List.Add(42) }).AddArgument($t)
        $ps.Invoke(); $ps.Dispose()
        $list | Should -Be 42
        [object]::ReferenceEquals($t.List, $list) | Should -BeTrue
        $t.Host = $host
        $t.Host.Name | Should -Be $host.Name
    }
}

Describe 'Atomic operations' {
    BeforeEach { Register-CurrentTest }
    It 'Increment from 4 runspaces x 25,000 gives exactly 100,000' {
        $t = New-SyncTable
        $naive = [hashtable]::Synchronized(@{ x = 0 })
        $pool = [runspacefactory]::CreateRunspacePool(4, 4); $pool.Open()
        $jobs = 1..4 | ForEach-Object {
            $ps = [powershell]::Create().AddScript({
                param($t, $naive)
                for ($i = 0; $i -lt 25000; $i++) { [void]$t.Increment('x'); $naive.x++ }
            }).AddArgument($t).AddArgument($naive)
            $ps.RunspacePool = $pool
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        foreach ($j in $jobs) { [void]$j.PS.EndInvoke($j.Handle); $j.PS.Dispose() }
        $pool.Close()
        $t.x | Should -Be 100000
        Write-Host "synchronized hashtable `$h.x++: $($naive.x) of 100000 ($(100000 - $naive.x) lost)"
    }

    It 'Increment reports non-numeric values clearly' {
        $t = New-SyncTable
        $t.s = 'text'
        { $t.Increment('s') } | Should -Throw '*not a number*'
    }

    It 'CompareExchange, GetOrAdd and TryRemove' {
        $t = New-SyncTable
        $t.k = 1
        $t.CompareExchange('k', 2, 3) | Should -BeFalse
        $t.CompareExchange('k', 1, 3) | Should -BeTrue
        $t.GetOrAdd('new', 7) | Should -Be 7
        $t.GetOrAdd('new', 8) | Should -Be 7
        $value = $null
        $t.TryRemove('new', [ref]$value) | Should -BeTrue
        $value | Should -Be 7
    }

    It 'CompareExchange on a live object matches the instance the key holds, so a CAS loop ends' {
        $t = New-SyncTable
        $o = [pscustomobject]@{ a = 1 }; $t.o = $o
        $t.CompareExchange('o', [pscustomobject]@{ a = 1 }, 'x') | Should -BeFalse -Because 'an equal-looking copy is another object'
        $t.CompareExchange('o', $o, 'swapped') | Should -BeTrue
        $t.o | Should -Be 'swapped'
        $h = @{ x = 1 }; $t.h = $h
        $t.CompareExchange('h', $t.h, 5) | Should -BeTrue
        $t.g = [guid]::Empty; $t.CompareExchange('g', [guid]::Empty, 1) | Should -BeTrue
        $t.d = 1.5d; $t.CompareExchange('d', 1.5d, 2) | Should -BeTrue
        $t.d2 = 1.5d; $t.CompareExchange('d2', 2.5d, 2) | Should -BeFalse
        $t.CompareExchange('missing', $o, 1) | Should -BeFalse
        # Several runspaces replacing a list object by a longer copy lose nothing.
        $t.list = [System.Collections.Generic.List[int]]::new()
        1..4 | ForEach-Object -Parallel {
            $t = $using:t
            for ($i = 0; $i -lt 100; $i++) {
                do { $old = $t.list; $new = [System.Collections.Generic.List[int]]::new($old); $new.Add($i) } until ($t.CompareExchange('list', $old, $new))
            }
        } -ThrottleLimit 4
        $t.list.Count | Should -Be 400
    }

    It 'Update and Update-SyncTable retry instead of losing updates' {
        $t = New-SyncTable
        1..8 | ForEach-Object -Parallel {
            $t = $using:t
            for ($i = 0; $i -lt 200; $i++) { [void]$t.Update('u', { param($old) [int]$old + 1 }) }
        } -ThrottleLimit 4
        $t.u | Should -Be 1600
        'u' | Update-SyncTable -Table $t -ScriptBlock { $_ + 1 } -PassThru | Should -Be 1601
    }

    It 'Update-SyncTable writes the scriptblock''s own error, for that key only, and leaves the key unchanged' {
        $t = New-SyncTable -InitialValue @{ a = 1; b = 2 }
        $out = 'a', 'b' | Update-SyncTable $t -ScriptBlock { if ($_ -eq 1) { throw [System.IO.FileNotFoundException]::new('no such file') }; $_ * 10 } -PassThru -ErrorAction SilentlyContinue -ErrorVariable failed
        $out | Should -Be 20
        $failed.Count | Should -Be 1
        $failed[0].Exception | Should -BeOfType System.IO.FileNotFoundException
        $failed[0].FullyQualifiedErrorId | Should -Not -BeLike 'SyncPool.*'
        $failed[0].TargetObject | Should -Be 'a'
        $t.a | Should -Be 1
        $t.b | Should -Be 20
        $idFromScript = Update-SyncTable $t -Key a -ScriptBlock { Write-Error -Message 'refused' -ErrorId 'My.Refused' -Category PermissionDenied -ErrorAction Stop } -ErrorAction SilentlyContinue -ErrorVariable own
        $own[0].FullyQualifiedErrorId | Should -BeLike 'My.Refused*'
        $own[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
    }

    It 'Update-SyncTable sends the block''s non-terminating errors and warnings to its own streams, not into the value' {
        $ErrorActionPreference = 'Continue'   # as at a prompt (Pester runs tests under Stop)
        $t = New-SyncTable -InitialValue @{ n = 1 }
        $stored = Update-SyncTable $t n { Write-Error 'soft'; Write-Warning 'careful'; $_ + 1 } -PassThru -ErrorVariable ev -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue
        $stored | Should -Be 2
        $t.n | Should -Be 2 -Because 'the records are not part of the value'
        @($ev).Count | Should -Be 1
        "$($ev[0])" | Should -Be 'soft'
        "$($wv[0])" | Should -Be 'careful'
        $merged = Update-SyncTable $t n { Write-Error 'again'; $_ + 1 } 2>&1
        "$merged" | Should -Be 'again' -Because '2>&1 sees the error'
    }

    It 'Wait-SyncTable -Timeout takes seconds, -1 for no limit, and refuses other negatives' {
        $t = New-SyncTable -InitialValue @{ here = 1 }
        Wait-SyncTable $t -Key here -Timeout -1 | Should -BeTrue
        Wait-SyncTable $t -Key missing -Timeout 0 -ErrorAction SilentlyContinue | Should -BeFalse
        { Wait-SyncTable $t -Key missing -Timeout -0.5 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SyncPool.Cmdlets.WaitSyncTableCommand'
    }

    It 'Lock releases on exceptions' {
        $t = New-SyncTable
        { $t.Lock('k', { throw 'inside' }) } | Should -Throw
        $job = Start-ThreadJob { param($t) $t.Lock('k', { $t.Got = $true }) } -ArgumentList $t
        $job | Wait-Job -Timeout 10 | Out-Null
        $t.Got | Should -BeTrue
    }
}

Describe 'Wait-SyncTable' {
    BeforeEach { Register-CurrentTest }
    It 'wakes when another runspace writes the key' {
        $t = New-SyncTable
        $job = Start-ThreadJob { param($t) Start-Sleep -Milliseconds 300; $t.Answer = 42 } -ArgumentList $t
        Wait-SyncTable -Table $t -Key Answer -Timeout 10 -PassThru | Should -Be 42
        $job | Wait-Job | Remove-Job
    }

    It 'times out with SyncPool.WaitTimeout or $false under SilentlyContinue' {
        $t = New-SyncTable
        Wait-SyncTable $t never -Timeout 0.2 -ErrorAction SilentlyContinue | Should -BeFalse
        $err = $null
        Wait-SyncTable $t never -Timeout 0.2 -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.WaitTimeout*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }

    It 'is interrupted by stopping the pipeline (Ctrl+C)' {
        $t = New-SyncTable
        $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddCommand('Wait-SyncTable').AddParameter('Table', $t).AddParameter('Key', 'never')
        $handle = $ps.BeginInvoke()
        Start-Sleep -Milliseconds 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
    }

    It 'ends the methods $t.WaitFor, $t.WaitForChange and $t.Lock when their pipeline is stopped (Ctrl+C), before the next statement' {
        $t = New-SyncTable -InitialValue @{ changing = 1 }
        # Another runspace holds key 'held' until 'release' is written.
        $holder = [powershell]::Create().AddScript({ param($t) $t.Lock('held', [Action]{ $t.holding = 1; $null = $t.WaitFor('release', [timespan]::FromSeconds(30)) }) }).AddArgument($t)
        $holding = $holder.BeginInvoke()
        # Each script marks that it reached its wait (entered<n>), so the stop lands inside the wait.
        $waits = @(
            'param($t) $t.entered1 = 1; $null = $t.WaitFor(''never'', -1); $t.after = ''WaitFor'''
            'param($t) $t.entered2 = 1; $null = $t.WaitForChange(''changing'', $t.GetVersion(''changing''), [timespan]::FromMilliseconds(-1)); $t.after = ''WaitForChange'''
            'param($t) $t.entered3 = 1; $t.Lock(''held'', [Action]{ }); $t.after = ''Lock'''
        )
        try {
            $t.WaitFor('holding', [timespan]::FromSeconds(10)) | Should -BeTrue
            for ($n = 1; $n -le $waits.Count; $n++) {
                $wait = $waits[$n - 1]
                $ps = [powershell]::Create().AddScript($wait).AddArgument($t)
                $running = $ps.BeginInvoke()
                $t.WaitFor("entered$n", [timespan]::FromSeconds(10)) | Should -BeTrue
                $running.AsyncWaitHandle.WaitOne(200) | Should -BeFalse -Because "$wait waits"
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $stopping = $ps.BeginStop($null, $null)
                $stopping.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because "stopping the pipeline ends $wait"
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                $t.ContainsKey('after') | Should -BeFalse -Because 'the statement after the wait does not run'
                $ps.Dispose()
            }
            # A stop still runs finally blocks; a wait there waits, as Wait-SyncTable's does.
            $ps = [powershell]::Create().AddScript('param($t) try { $t.entered4 = 1; $null = $t.WaitFor(''never'', -1) } finally { $t.cleanup = $t.WaitFor(''late'', [timespan]::FromSeconds(10)) }').AddArgument($t)
            $running = $ps.BeginInvoke()
            $t.WaitFor('entered4', [timespan]::FromSeconds(10)) | Should -BeTrue
            Start-Sleep -Milliseconds 200
            $stopping = $ps.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne(500) | Should -BeFalse -Because 'the finally block waits for its key'
            $t.late = 1
            $stopping.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
            $t.cleanup | Should -BeTrue -Because 'the wait in the finally block saw its key'
            $ps.Dispose()
        }
        finally {
            # Frees whatever still waits, should the test fail.
            $t.release = 1; $t.never = 1; $t.changing = 2; $t.late = 1; $null = $holding.AsyncWaitHandle.WaitOne(10000); $holder.Dispose()
        }
    }

    It 'runs the finally blocks of a script whose method wait was stopped to their end, as after a stopped cmdlet' {
        # PowerShell marks a pipeline as stopping (which lets finally blocks run through) just
        # after it announces the stop; a wait that ended on the announcement must not let the
        # script reach its finally block before the mark.
        $t = New-SyncTable
        $completed = 0
        for ($i = 0; $i -lt 10; $i++) {
            $t.Remove('done')
            $job = Start-ThreadJob { $x = $using:t; try { $x.entered = 1; $null = $x.WaitFor('never', -1) } finally { Start-Sleep -Milliseconds 50; $x.done = 1 } }
            try {
                $t.WaitFor('entered', [timespan]::FromSeconds(10)) | Should -BeTrue
                Start-Sleep -Milliseconds 100
                $job | Stop-Job
                if ($t.done) { $completed++ }
            }
            finally { $t.Remove('entered'); $job | Remove-Job -Force }
        }
        $completed | Should -Be 10 -Because 'every finally block ran to its end'
    }

    It 'ends at once with SyncPool.Disposed when another runspace removes the table' {
        $t = New-SyncTable
        $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddCommand('Wait-SyncTable').AddParameter('Table', $t).AddParameter('Key', 'never')
        try {
            $handle = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 300
            $sw = [Diagnostics.Stopwatch]::StartNew()
            Remove-SyncTable $t -Confirm:$false
            $handle.AsyncWaitHandle.WaitOne(10000) | Should -BeTrue -Because 'the removal wakes the wait'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Failed'
            $ps.InvocationStateInfo.Reason.ErrorRecord.FullyQualifiedErrorId | Should -BeLike 'SyncPool.Disposed*'
        }
        finally {
            if ($ps.InvocationStateInfo.State -eq 'Running') { $null = $ps.BeginStop($null, $null) } else { $ps.Dispose() }
        }
    }
}

Describe 'Lock-SyncTable' {
    BeforeEach { Register-CurrentTest }

    It 'keeps an invariant over two keys while 4 runspaces move amounts between them (exact totals)' {
        $t = New-SyncTable -InitialValue @{ a = 10000; b = 0; broken = 0 }
        $tasks = 1..4 | Start-ParallelTask {
            $t = $using:t
            for ($i = 0; $i -lt 500; $i++) {
                Lock-SyncTable $t transfer {
                    if ($t.a + $t.b -ne 10000) { [void]$t.Increment('broken') }
                    $t.a -= 1; $t.b += 1   # read-then-write: safe only under the lock
                }
            }
        }
        $tasks | Wait-ParallelTask -Timeout 120 | Out-Null
        @($tasks | Where-Object State -NE Completed).Count | Should -Be 0
        $t.b | Should -Be 2000
        $t.a | Should -Be 8000
        $t.broken | Should -Be 0 -Because 'no runspace saw a half-done move'
    }

    It 'writes the block''s output, runs it in the caller''s scope and sends its errors and warnings to their streams' {
        $t = New-SyncTable
        $out = Lock-SyncTable $t k { 'one'; 2; $inside = 'set' } -ErrorVariable ev -WarningVariable wv
        $out | Should -Be @('one', 2)
        $inside | Should -Be 'set'
        $ErrorActionPreference = 'Continue'   # as at a prompt (Pester runs tests under Stop); the block runs in this scope
        $out = Lock-SyncTable $t k { Write-Error 'soft'; Write-Warning 'careful'; 'after' } -ErrorVariable ev -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue
        $out | Should -Be 'after'
        @($ev).Count | Should -Be 1
        "$($ev[0])" | Should -Be 'soft'
        "$($wv[0])" | Should -Be 'careful'
        $t | Lock-SyncTable -Key k -ScriptBlock { 'piped' } | Should -Be 'piped'
        Lock-SyncTable $t k { Lock-SyncTable $t k { 're-entered' } } | Should -Be 're-entered'
    }

    It 'releases the lock when the block throws, breaks, continues; writes what the block wrote first; keeps arrays whole' {
        $t = New-SyncTable
        { Lock-SyncTable $t k { throw 'boom' } } | Should -Throw 'boom'
        $got = [Collections.Generic.List[object]]::new()
        try { Lock-SyncTable $t k { 'before'; throw 'boom' } | ForEach-Object { $got.Add($_) } } catch { $got.Add("caught $_") }
        $got | Should -Be @('before', 'caught boom')
        $seen = foreach ($i in 1..4) { Lock-SyncTable $t k { if ($i -eq 2) { continue }; if ($i -eq 4) { break }; "i=$i" } }
        $seen | Should -Be @('i=1', 'i=3') -Because 'continue and break act on the loop around Lock-SyncTable, as in ForEach-Object'
        (Lock-SyncTable $t k { ,@(5) }).GetType().Name | Should -Be 'Object[]'
        @(Lock-SyncTable $t k { ,@() }).Count | Should -Be 1
        $job = Start-ThreadJob { Import-Module $env:SYNCPOOL_MODULE_PATH; Lock-SyncTable $using:t k { 'free' } -Timeout 5 }
        $job | Wait-Job -Timeout 30 | Receive-Job | Should -Be 'free'
        $job | Remove-Job
    }

    It 'gives up with SyncPool.LockTimeout, without running the block, while another runspace holds the key' {
        $t = New-SyncTable
        $job = Start-ThreadJob { Import-Module $env:SYNCPOOL_MODULE_PATH; $t = $using:t; Lock-SyncTable $t busy { $t.held = 1; $null = Wait-SyncTable $t -Key done -Timeout 60 } }
        try {
            Wait-SyncTable $t -Key held -Timeout 30 | Should -BeTrue
            $ran = $false
            Lock-SyncTable $t busy { $ran = $true } -Timeout 0.2 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $ran | Should -BeFalse
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.LockTimeout*'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].TargetObject | Should -Be 'busy'
        }
        finally { $t.done = 1; $job | Wait-Job -Timeout 30 | Remove-Job -Force }
    }

    It 'is interrupted by stopping the pipeline (Ctrl+C) while another runspace holds the key' {
        $t = New-SyncTable
        $job = Start-ThreadJob { Import-Module $env:SYNCPOOL_MODULE_PATH; $t = $using:t; Lock-SyncTable $t busy { $t.held = 1; $null = Wait-SyncTable $t -Key done -Timeout 60 } }
        $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddScript('param($t) Lock-SyncTable $t busy { $t.entered = 1 }').AddArgument($t)
        try {
            Wait-SyncTable $t -Key held -Timeout 30 | Should -BeTrue
            $null = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 300
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $t.ContainsKey('entered') | Should -BeFalse
        }
        finally { $t.done = 1; $job | Wait-Job -Timeout 30 | Remove-Job -Force; $ps.Dispose() }
    }

    It 'completes -Key of Lock-SyncTable, Wait-SyncTable and Update-SyncTable with the table''s keys, as they must be typed' {
        $script:completing = New-SyncTable -InitialValue @{ alpha = 1; Alpine = 2; beta = 3; '5' = 'text five'; 'two words' = 4 }
        $script:completing[7] = 'number seven'
        $script:completing[-3] = 'number minus three'
        $script:completing['a[1]'] = 'brackets'
        function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
        Complete 'Lock-SyncTable $completing -Key al' | Should -Be @('alpha', 'Alpine')
        Complete 'Wait-SyncTable $completing -Key tw' | Should -Be @("'two words'")
        Complete 'Update-SyncTable -Table $completing -Key ' | Should -Contain "'5'" -Because 'a text key that reads as a number is quoted'
        Complete 'Update-SyncTable -Table $completing -Key ' | Should -Contain '7' -Because 'a number key is not'
        $value = Invoke-Expression ("`$completing[" + (Complete 'Wait-SyncTable $completing -Key 5') + "]")
        $value | Should -Be 'text five' -Because 'the completed key reads the entry it names'
        Complete 'Lock-SyncTable $completing -Key ' | Should -Contain '(-3)' -Because 'a bare -3 argument is the text ''-3'''
        (Invoke-Expression 'Update-SyncTable $completing (-3) { "$_ changed" } -PassThru') | Should -Be 'number minus three changed' -Because '(-3) names the number key'
        Complete 'Lock-SyncTable $completing -Key a[' | Should -Be "'a[1]'" -Because 'a typed [ is no wildcard'
        Remove-SyncTable $script:completing -Confirm:$false
        Complete 'Lock-SyncTable $completing -Key al' | Should -BeNullOrEmpty -Because 'a removed table completes nothing, without an error'
    }

    It 'fails with SyncPool.Disposed on a removed table' {
        $t = New-SyncTable
        Remove-SyncTable $t -Confirm:$false
        $err = $null
        try { Lock-SyncTable $t k { 'never' } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.Disposed*'
    }
}

Describe 'Snapshots, export and import' {
    BeforeEach { Register-CurrentTest }
    It 'Snapshot is a plain hashtable and enumeration never throws while others write' {
        $t = New-SyncTable
        $job = Start-ThreadJob { param($t) for ($i = 0; $i -lt 20000; $i++) { $t["k$($i % 300)"] = $i } } -ArgumentList $t
        $errors = 0; $rounds = 0
        # The job may not have started yet: keep reading until it has finished writing.
        do {
            try { foreach ($e in $t.GetEnumerator()) { } ; $null = $t.Snapshot(); $rounds++ } catch { $errors++ }
        } while ($job.State -in 'NotStarted', 'Running')
        $job | Wait-Job -Timeout 60 | Remove-Job
        $errors | Should -Be 0
        $rounds | Should -BeGreaterThan 0
        $t.Count | Should -Be 300
        $t.Snapshot() | Should -BeOfType [hashtable]
    }

    It 'Export-SyncTable / Import-SyncTable round-trip types exactly' {
        $t = New-SyncTable
        $t.int = 1; $t.double = 1.0; $t.text = 'x'; $t.date = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc); $t.bytes = [byte[]](1, 2)
        $path = Join-Path $TestDrive 't.json'
        $t | Export-SyncTable -Path $path
        $copy = Import-SyncTable -Path $path
        $copy.int | Should -BeOfType [int]
        $copy.double | Should -BeOfType [double]
        $copy.text | Should -BeOfType [string]
        $copy.date | Should -Be $t.date
        $copy.date.Kind | Should -Be 'Utc'
        $copy.bytes | Should -Be @(1, 2)
    }

    It 'refuses live objects by key unless CLIXML is asked for' {
        $t = New-SyncTable
        $t.Host = $host
        $path = Join-Path $TestDrive 'h.json'
        $err = $null
        Export-SyncTable $t $path -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotSerializable*'
        $err[0].Exception.Message | Should -Match 'Host'
        Export-SyncTable $t (Join-Path $TestDrive 'h.xml') -AsClixml -Depth 1
        (Import-SyncTable (Join-Path $TestDrive 'h.xml')).Host.Name | Should -Be $host.Name
    }
}

Describe 'Named tables and disposal' {
    BeforeEach { Register-CurrentTest }
    It 'Get-SyncTable finds a named table from another runspace' {
        $t = New-SyncTable -Name "Shared$(Get-Random)"
        $name = $t.Name
        $job = Start-ThreadJob { param($name, $path) Import-Module $path; (Get-SyncTable $name).Seen = $true } -ArgumentList $name, $env:SYNCPOOL_MODULE_PATH
        $job | Wait-Job | Remove-Job
        $t.Seen | Should -BeTrue
        Remove-SyncTable -Name $name -Confirm:$false
        Get-SyncTable $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Remove-SyncTable supports -WhatIf; every later use of the table is an error the user sees' {
        $t = New-SyncTable -InitialValue @{ a = 1 }
        Remove-SyncTable $t -WhatIf
        $t.IsDisposed | Should -BeFalse
        $t.a | Should -Be 1
        Remove-SyncTable $t -Confirm:$false
        $t.IsDisposed | Should -BeTrue
        # Methods, writes, enumeration and string expansion throw ObjectDisposedException.
        { $t.ContainsKey('a') } | Should -Throw -ExceptionType ([System.Management.Automation.MethodInvocationException])
        try { $t.ContainsKey('a') } catch { $_.Exception.InnerException | Should -BeOfType [ObjectDisposedException] }
        { $t['x'] = 1 } | Should -Throw -ExceptionType ([ObjectDisposedException])
        { $t.x = 1 } | Should -Throw -ExceptionType ([ObjectDisposedException])
        { $t.GetEnumerator() } | Should -Throw
        # String expansion would turn a throw into a bare "cannot convert": it reports the removal instead.
        $got = @(& { "value: $t" } 2>&1)
        @($got | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.Disposed*'
        @($got | Where-Object { $_ -is [string] }) | Should -Be 'value: SyncTable (removed)'
        { $t.Increment('n') } | Should -Throw
        { Wait-SyncTable $t a -Timeout 1 } | Should -Throw -ErrorId 'SyncPool.Disposed,*'
        # Reads PowerShell will not let throw (see the next test) write SyncPool.Disposed
        # into the caller's error stream and answer a value no table holds.
        foreach ($read in { $t.a }, { $t['a'] }, { $t.Count }, { $t.Keys }, { $t.Values }) {
            $got = @(& $read 2>&1)
            $errors = @($got | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $errors.Count | Should -Be 1 -Because "$read must report the removal"
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.Disposed*'
            $errors[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $values = @($got | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            foreach ($v in $values) { "$v" | Should -BeIn '(removed SyncTable)', '-1' }
        }
        $t.a | Should -BeOfType [SyncPool.Table.RemovedSyncTable] -ErrorAction SilentlyContinue 2>$null
        $t.Count 2>$null | Should -Be -1
        # PowerShell's serializer (Export-Clixml, Start-Job -ArgumentList, PSSerializer) swallows what
        # GetEnumerator throws and writes an empty dictionary (see the next test): the removal is reported.
        foreach ($serialize in { $t | Export-Clixml -LiteralPath (Join-Path $TestDrive 'removed.xml') }, { $null = [System.Management.Automation.PSSerializer]::Serialize($t) }) {
            $errors = @(& $serialize 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $errors.Count | Should -Be 1 -Because "$serialize must report the removal"
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.Disposed*'
            $errors[0].Exception.Message | Should -BeLike '*removed*entries*'
        }
    }

    It 'a removed table that is shown (the prompt, Out-String, Format-Table, Format-List) is an error naming the removal' {
        # The formatter enumerates the table; what it throws ends the statement (and, from
        # Out-Default at a prompt or in a script, the script): an error, never an empty display.
        $t = New-SyncTable -InitialValue @{ a = 1 }
        Remove-SyncTable $t -Confirm:$false
        foreach ($show in { $t | Out-String }, { $t | Format-Table | Out-String }, { $t | Format-List | Out-String }) {
            $show | Should -Throw -ExceptionType ([ObjectDisposedException]) -ExpectedMessage '*removed*Remove-SyncTable*' -Because "$show must report the removal"
        }
        $child = Invoke-ChildPwsh -TimeoutSeconds 60 -Command "Import-Module '$env:SYNCPOOL_MODULE_PATH'; `$t = New-SyncTable -InitialValue @{ a = 1 }; Remove-SyncTable `$t; `$t"
        $child.Error | Should -Match 'SyncTable has been removed'
        $child.Output | Should -Not -Match 'Name\s+Value' -Because 'a removed table is not shown as an empty one'
    }

    It 'cannot throw from $d.key, $d[key], $d.Count, $d.Keys or to the serializer: PowerShell swallows IDictionary exceptions (why the table reports instead)' {
        Add-Type -TypeDefinition @"
using System;
using System.Collections;
public sealed class SyncPoolThrowingDictionary : IDictionary {
    static Exception Gone() { return new ObjectDisposedException("dictionary"); }
    public object this[object key] { get { throw Gone(); } set { throw Gone(); } }
    public bool IsFixedSize { get { return false; } } public bool IsReadOnly { get { return false; } }
    public ICollection Keys { get { throw Gone(); } } public ICollection Values { get { throw Gone(); } }
    public int Count { get { throw Gone(); } }
    public bool IsSynchronized { get { return false; } } public object SyncRoot { get { return this; } }
    public void Add(object k, object v) { throw Gone(); } public void Clear() { throw Gone(); }
    public bool Contains(object k) { throw Gone(); }
    public IDictionaryEnumerator GetEnumerator() { throw Gone(); }
    IEnumerator IEnumerable.GetEnumerator() { throw Gone(); }
    public void Remove(object k) { throw Gone(); } public void CopyTo(Array a, int i) { throw Gone(); }
}
"@
        $d = [SyncPoolThrowingDictionary]::new()
        $Error.Clear()
        foreach ($read in { $d.a }, { $d['a'] }, { $d.Count }, { $d.Keys }) {
            { $null = & $read } | Should -Not -Throw
            & $read | Should -BeNullOrEmpty
        }
        $d | Export-Clixml -LiteralPath (Join-Path $TestDrive 'throwing.xml')
        (Get-Content -LiteralPath (Join-Path $TestDrive 'throwing.xml') -Raw) | Should -Match '<DCT />' -Because 'the serializer writes an empty dictionary when GetEnumerator throws'
        $ErrorActionPreference = 'Stop'
        { $null = $d.a } | Should -Not -Throw
        $Error.Count | Should -Be 0
    }
}

Describe 'The module loads from its own folder' {
    BeforeEach { Register-CurrentTest }
    It 'imports from an unrelated working directory and survives -Force re-import' {
        $child = Invoke-ChildPwsh -TimeoutSeconds 60 -Command "Import-Module '$env:SYNCPOOL_MODULE_PATH'; Import-Module '$env:SYNCPOOL_MODULE_PATH' -Force; (New-SyncTable -InitialValue @{a=1}).a; (Get-Command -Module SyncPool).Count"
        $child.Error | Should -BeNullOrEmpty
        $child.Output[0] | Should -Be 1
        [int]$child.Output[1] | Should -BeGreaterThan 10
    }

    It 'fails to import with the expected path when the native library is missing' {
        $copy = Join-Path $TestDrive 'SyncPool'
        Copy-Item $env:SYNCPOOL_MODULE_PATH $copy -Recurse
        Get-ChildItem (Join-Path $copy 'runtimes') -Recurse -File | Remove-Item
        $child = Invoke-ChildPwsh -TimeoutSeconds 60 -Command "try { Import-Module '$copy' -ErrorAction Stop } catch { `$_.Exception.Message }"
        "$($child.Output)" | Should -Match ([regex]::Escape((Join-Path $copy 'runtimes')))
    }
}
