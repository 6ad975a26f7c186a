import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  // The page's static shell painted while this loaded; the app takes its place.
  root.replaceChildren();
  render(<App />, root);
}
