import { MemTree } from './mem-tree.ts';
import { fsSuite } from '../../tests/suites/fs-suite.ts';

fsSuite('MemDir', () => new MemTree().createRoot());
