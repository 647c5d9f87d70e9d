/** The web view's entry point (bundled by web/build.ts into dist/ui/app.js). */
import { render } from 'preact';
import { App } from './views/app.js';

render(<App />, document.getElementById('app')!);
