"""Views: turn the engine's step events into HTML and plotly figures for the app. Imports gradio nowhere
except where a message must reach the page as `gr.Error`."""
